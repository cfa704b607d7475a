# seed 002 "Empty string (default)"
def start_function(conv: Conversation):
    return str()
