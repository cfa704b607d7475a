# escape: an address's private integer and the shared per-class constants of ipaddress (_constants, _ALL_ONES)
# layer: guard
# expect: contained
import ipaddress


def tool(conv):
    for target, name in ((ipaddress.ip_address("10.0.0.1"), "_ip"), (ipaddress.IPv4Network, "_constants"),
                         (ipaddress.IPv4Address, "_ALL_ONES"), (ipaddress.ip_network("10.0.0.0/8"), "_cache")):
        try:
            getattr(target, name)
        except AttributeError as exc:
            if "names starting with '_'" not in str(exc):
                return "%s refused for another reason: %s" % (name, exc)
            continue
        return "escaped: read %s" % name
    return "contained" if ipaddress.ip_address("10.0.0.1").is_private else "ipaddress broke"
