# seed 001 "Strict key was assigned at all check with in"
def was_assigned(conv: Conversation):
    if "booking_time" in conv.state:
        return "assigned"
    return "never assigned"
