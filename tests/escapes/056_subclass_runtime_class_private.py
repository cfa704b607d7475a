# escape: subclass the runtime's Conversation so its instances become writable, and read the parent's private slots through a subclass method
# layer: compile
# expect: compile_error attribute '_utils' is not allowed
class Mine(Conversation):
    def secrets(self):
        return self._utils._secrets


def tool(conv):
    return str(Mine.secrets(conv))
