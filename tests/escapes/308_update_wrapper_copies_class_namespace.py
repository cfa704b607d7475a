# escape: functools.update_wrapper copies wrapped.__dict__ into the wrapper, and wrapped may be any class: the copy hands the tool a class's namespace (refused as cls.__dict__), including the runtime's own classes and the tool-class mark's private token
# layer: guard
# expect: contained
# LIVE today: the tool holds Conversation's namespace (its private methods and slot descriptors) and the '$tool class' token. Fix: update_wrapper/wraps accept as `wrapped` only tool functions (or copy __dict__ only from them), never a class or a runtime object
import functools


class Donor:
    pass


class Holder:
    pass


def tool(conv):
    copies = []
    for donor in (Donor, type(conv)):
        holder = Holder()
        try:
            functools.update_wrapper(holder, donor)
        except (TypeError, AttributeError):
            continue
        copies.append(vars(holder))
    leaked = [name for copy in copies for name in copy if name in ("$tool class", "_export_state", "_utils")]
    if leaked:
        return f"escaped: update_wrapper copied class namespaces: {sorted(set(leaked))}"
    return "contained"
