# escape: fullwidth low lines (U+FF3F) in an attribute name, hoping the checker sees no '_' (NFKC folds them to '__class__')
# layer: compile
# expect: compile_error attribute '__class__' is not allowed
def tool(conv):
    return str(conv.＿＿class＿＿)
