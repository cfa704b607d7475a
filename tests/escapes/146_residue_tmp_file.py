# escape: drop a file in /tmp for the next tenant's process to read
# layer: guard
# expect: runtime_error name 'open' is not defined
# then: contained
# tenants: A B
def tool(conv):
    with open("/tmp/planted-by-tenant-a", "w") as f:
        f.write("tenant A was here")
    return "planted"


def phase2(conv):
    try:
        return "escaped: " + open("/tmp/planted-by-tenant-a").read()
    except NameError:
        return "contained"


def binds_open(open=None):
    # Binding the name lets the compiler pass 'open'; the tool's builtins must still lack it.
    return open
