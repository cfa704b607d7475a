# seed 000/001 "Environment configuration" (the comments mark where each branch acts)
def configure(conv: Conversation):
    if conv.env == "sandbox":
        # enable early feedback flow
        pass
    elif conv.env == "pre-release":
        # activate staging tools
        pass
    elif conv.env == "live":
        # run production features
        pass
    conv.state.env_seen = conv.env
