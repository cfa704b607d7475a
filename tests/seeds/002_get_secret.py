# seed 002 "Never hardcode credentials"
def start_function(conv: Conversation):
    api_key = conv.utils.get_secret("my_api_key")
    log.info(f"using key {api_key}")
    conv.state.key_length = len(api_key)
    return str()
