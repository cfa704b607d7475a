# seed 001 "Explicit unset check with is None"
def start_function(conv: Conversation):
    conv.state.booking_time = None   # explicit "not yet collected" marker
    conv.state.customer_id = None

# later, in a flow step
def flow_step(conv: Conversation):
    if conv.state.booking_time is None:
        return "What time would you like to book?"
