# escape: super(Conversation, conv) proxies lookups past the runtime's own class: read conv's private slots through it
# layer: guard
# expect: runtime_error super(Conversation, ...) is not available to tools
# a private name through a super proxy is readable only if the class after __thisclass__ that holds it is the tool's (here none does, and conv is not the tool's)
def tool(conv):
    return str(super(type(conv), conv)._utils)
