# seed 000/001 "Variables": setting variables
def set_variables(conv: Conversation):
    conv.state.my_variable = 1
    conv.state.my_other_variable = {
        "property": "value"
    }
