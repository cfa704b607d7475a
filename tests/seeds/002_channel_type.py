# seed 002 "Use conv.channel_type to disable voice-only features"
def start_function(conv: Conversation):
    conv.state.is_voice = conv.channel_type == "sip.polyai"
    if not conv.state.is_voice:
        conv.state.transfers_enabled = False
    return str()
