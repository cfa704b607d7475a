# seed 004 "listen"
def tool(conv: Conversation):
    return {
      "utterance": "Can I help you with anything else?",
      "listen": {
        "asr": {
          "timeout": 20
        }
      }
    }
