# escape: contextlib.redirect_stdout/redirect_stderr (swap the process's real streams) and chdir (the working directory)
# layer: views
# expect: contained
import contextlib


def tool(conv):
    for name in ("redirect_stdout", "redirect_stderr", "chdir", "asynccontextmanager", "aclosing", "AsyncExitStack"):
        try:
            getattr(contextlib, name)
        except AttributeError as exc:
            if "available to tools" not in str(exc):
                return "%s refused for another reason: %s" % (name, exc)
            continue
        return "escaped: contextlib.%s is reachable" % name
    return "contained"
