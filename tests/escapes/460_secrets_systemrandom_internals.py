# escape: secrets' shared SystemRandom: its private helpers, the module's _sysrand, and state reads
# layer: guard
# expect: contained
import secrets


def tool(conv):
    generator = secrets.SystemRandom()
    for target, name in ((generator, "_randbelow"), (generator, "_urandom"), (secrets, "_sysrand"),
                         (secrets, "DEFAULT_ENTROPY"), (secrets, "os")):
        try:
            getattr(target, name)
        except AttributeError as exc:
            if "names starting with '_'" not in str(exc) and "available to tools" not in str(exc):
                return "%s refused for another reason: %s" % (name, exc)
            continue
        return "escaped: read %s" % name
    try:
        generator.getstate()
    except NotImplementedError:
        return "contained"
    return "escaped: SystemRandom has a state"
