# seed 003/004 "utterance"
def tool(conv: Conversation):
    return {
      "utterance": "I cannot assist with your request."
    }
