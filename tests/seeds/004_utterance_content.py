# seed 004 "Deliver a specific phrase now and set instructions for the next turn"
def tool(conv: Conversation):
    return {
      "utterance": "I've updated your reservation.",
      "content": "The reservation has been changed. Ask if there's anything else you can help with."
    }
