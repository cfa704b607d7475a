# escape: imports under `if TYPE_CHECKING:` skip the compiler's module check; make TYPE_CHECKING the tool's own True so the import runs
# layer: guard
# expect: runtime_error import of 'os' is not allowed
TYPE_CHECKING = True
if TYPE_CHECKING:
    import os


def tool(conv):
    return str(os.getpid())
