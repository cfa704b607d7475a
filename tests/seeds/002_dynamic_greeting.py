# seed 002 "Dynamic greeting"
def start_function(conv: Conversation):
    return {
        "utterance": f"Welcome to {conv.variant.site_name}. How can I help you today?"
    }
