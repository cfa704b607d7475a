# seed 000/001 "Deleting a variable"
def forget(conv: Conversation):
    del conv.state['variable_name']
