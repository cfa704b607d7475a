# escape: forge the tool-class mark: put '$tool class' into an instance's __dict__ and into a make_dataclass namespace based on the runtime's Utils, hoping conv.utils or Utils count as the tool's
# layer: guard
# expect: contained
import dataclasses


class Plain:
    pass


def tool(conv):
    item = Plain()
    vars(item)["$tool class"] = object()
    Derived = dataclasses.make_dataclass("Derived", [], bases=(type(conv.utils),),
                                         namespace={"$tool class": object()})
    refused = []
    try:
        conv.utils._secrets
    except AttributeError as error:
        refused.append("not on 'Utils' objects" in str(error))
    try:
        super(Derived, Derived)._secrets
    except AttributeError as error:
        refused.append("readable only on the tool's own" in str(error))
    if refused == [True, True]:
        return "contained"
    return f"escaped: {refused}"
