# seed 003 "listen"
def tool(conv: Conversation):
    return {
      "listen": {
        "channel": "SPEECH_AND_DTMF",
        "dtmf": {
          "finish_on_key": "#",
          "timeout": 15,
          "num_digits": 5
        },
        "asr": {
          "timeout": 20
        }
      }
    }
