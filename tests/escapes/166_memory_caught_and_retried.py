# escape: catch the MemoryError (as Exception) and keep allocating, to turn the memory limit into a hang
# layer: deadline
# expect: timeout
def tool(conv):
    hoard = []
    while True:
        try:
            hoard.append("a" * 10**9)
        except Exception:
            continue
