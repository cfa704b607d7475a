# escape: spell a forbidden attribute in fullwidth letters (x.ｆｏｒｍａｔ), hoping the checker compares the raw text; Python folds identifiers with NFKC, so it runs as .format
# layer: compile
# expect: compile_error attribute 'format' is not allowed
def tool(conv):
    return "{0.__class__.__init__.__globals__}".ｆｏｒｍａｔ(conv)
