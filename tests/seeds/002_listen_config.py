# seed 002 "Listen configuration"
def start_function(conv: Conversation):
    return {
        "utterance": "Welcome. Please say or enter your account number.",
        "listen": {
            "asr": {
                "timeout": 15
            }
        }
    }
