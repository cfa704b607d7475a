# escape: types.GenericAlias(conv.utils, ()) forwards attribute reads to conv.utils: ask the alias for _secrets and __init__
# layer: guard
# expect: contained
# the guard decides private and data-model names on the alias, which the tool did not define (public names still come through: see 317)
def tool(conv):
    Alias = type(list[int])
    alias = Alias(conv.utils, ())
    refused = []
    try:
        alias._secrets
    except AttributeError as error:
        refused.append("not on 'GenericAlias' objects" in str(error))
    try:
        alias.__init__
    except AttributeError as error:
        refused.append("is not available to tools" in str(error))
    if refused == [True, True]:
        return "contained"
    return f"escaped: {refused}"
