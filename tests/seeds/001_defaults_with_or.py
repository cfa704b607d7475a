# seed 001 "Defensive defaults with or"
def defaults(conv: Conversation):
    attempts = conv.state.verification_attempts or 0
    intent = conv.state.call_intent or "other"
    conv.state.summary = {"attempts": attempts, "intent": intent}
