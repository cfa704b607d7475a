# escape: return a generator, so the runtime's walk runs tool code (and its frame) while serializing
# layer: normalize
# expect: invalid_return generator cannot be stored
def tool(conv):
    return (conv.set_variant("hijacked") for _ in range(3))
