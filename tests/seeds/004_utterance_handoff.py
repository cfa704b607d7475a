# seed 004 "utterance + handoff"
def tool(conv: Conversation):
    return {
      "utterance": "Let me transfer you to a specialist who can help with that.",
      "handoff": {
        "type": "CALL_CENTER",
        "reason": "SPEAK_TO",
        "refer": { "phone_number": "12345" }
      }
    }
