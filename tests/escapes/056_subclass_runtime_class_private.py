# escape: subclass the runtime's Conversation so its instances become writable, and read the parent's private slots through a subclass method
# layer: guard
# expect: runtime_error readable only on the tool's own classes and objects
# moved: private names were refused at compile time; they are now readable only where the tool defined them: self._utils on a Conversation belongs to the runtime's class
class Mine(Conversation):
    def secrets(self):
        return self._utils._secrets


def tool(conv):
    return str(Mine.secrets(conv))
