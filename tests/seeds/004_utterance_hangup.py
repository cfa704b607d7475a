# seed 004 "Say a closing message before ending the call"
def tool(conv: Conversation):
    return {
      "utterance": "Thanks for calling, have a great day!",
      "hangup": True
    }
