# escape: catch whatever the deadline raises (bare except) and keep running
# layer: deadline
# expect: timeout
def tool(conv):
    while True:
        try:
            while True:
                pass
        except:  # noqa: E722 - the point of the attack
            continue
