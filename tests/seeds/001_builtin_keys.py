# seed 000/001 "Built-in state keys"
def read_builtins(conv: Conversation):
    log.info(f"Caller: {conv.state.from_}, Callee: {conv.state.to}")
    log.info(f"ASR language: {conv.state.asr_lang_code}")
