# escape: write into objects phonenumbers hands out (example numbers, the supported regions set) hoping they are the library's shared ones
# layer: guard
# expect: contained
import phonenumbers


def tool(conv):
    example = phonenumbers.example_number("GB")
    try:
        example.national_number = 1
    except TypeError as exc:
        if "read-only to tools" not in str(exc):
            return "write refused for another reason: %s" % exc
    else:
        return "escaped: wrote a PhoneNumber"
    regions = phonenumbers.SUPPORTED_REGIONS
    try:
        regions.add("ZZ")
    except AttributeError:
        pass
    else:
        return "escaped: SUPPORTED_REGIONS is a shared mutable set"
    codes = phonenumbers.supported_calling_codes()
    codes.discard(44)
    if 44 not in phonenumbers.supported_calling_codes():
        return "escaped: supported_calling_codes() returns the shared set"
    return "contained" if phonenumbers.example_number("GB").national_number != 1 else "the example changed"
