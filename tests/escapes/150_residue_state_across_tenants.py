# escape: write a value into conv.state and read it from another tenant's conversation
# layer: process
# expect: contained
# then: contained
# tenants: A B
def tool(conv):
    conv.state.card_number = "4111111111111111"
    return "contained"


def phase2(conv):
    if conv.state.card_number is None and "card_number" not in conv.state:
        return "contained"
    return "escaped: " + str(conv.state.card_number)
