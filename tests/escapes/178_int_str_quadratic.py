# escape: int('9' * 10**6): quadratic string-to-int conversion as a CPU bomb
# layer: interpreter
# expect: runtime_error Exceeds the limit (4300 digits)
def tool(conv):
    return str(int("9" * 10**6) % 7)
