# escape: uuid's host-reading members (uuid1, getnode, _generate_time_safe, the modules it holds) through the view
# layer: views
# expect: contained
import uuid


def tool(conv):
    for name in ("uuid1", "getnode", "_generate_time_safe", "_uuid", "os", "platform", "SafeUUID"):
        try:
            getattr(uuid, name)
        except AttributeError as exc:
            if "available to tools" not in str(exc):
                return "uuid.%s refused for another reason: %s" % (name, exc)
            continue
        return "escaped: uuid.%s is reachable" % name
    return "contained" if uuid.uuid4().version == 4 else "uuid4 broke"
