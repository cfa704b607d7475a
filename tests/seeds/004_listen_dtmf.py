# seed 004 "Example with DTMF"
def tool(conv: Conversation):
    return {
      "utterance": "Please enter your 6-digit code followed by the hash key.",
      "listen": {
        "channel": "SPEECH_AND_DTMF",
        "dtmf": {
          "num_digits": 6,
          "finish_on_key": "#",
          "first_digit_timeout": 5,
          "inter_digit_timeout": 2,
          "is_pii": True
        }
      }
    }
