# seed 003/004 "handoff" (refer)
def tool(conv: Conversation):
    return {
      "handoff": {
        "type": "CALL_CENTER",
        "reason": "SPEAK_TO",
        "refer": {
          "phone_number": "12345"
        }
      }
    }
