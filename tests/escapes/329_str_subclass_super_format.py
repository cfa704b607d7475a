# escape: reach str.format through a str subclass's super() proxy, so the method is bound by the proxy instead of read from a str, and walk a field to a function's globals
# layer: guard
# expect: runtime_error attribute '__globals__' is not available to tools
class Text(str):
    def render(self, *args):
        return super().format(*args)


def tool(conv):
    return Text("{0.__init__.__globals__}").render(tool)
