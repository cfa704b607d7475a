# seed 000/001 "Variables": referencing a variable in a later call
def check_progress(conv: Conversation):
    if conv.state.my_variable == 10:
        return "Well done you hit 10"
