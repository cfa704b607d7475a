# seed 004 "You can combine variant with utterance"
def tool(conv: Conversation):
    return {
      "utterance": "Let me connect you with the Orleans location.",
      "variant": "orleans"
    }
