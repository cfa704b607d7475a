# escape: phonenumbers' metadata loaders and submodules (PhoneMetadata.load_all, register_region_loader, phonenumbers.data), and a formatter's private metadata
# layer: views
# expect: contained
import phonenumbers


def tool(conv):
    for name in ("PhoneMetadata", "phonemetadata", "data", "shortdata", "geocoder", "carrier", "timezone",
                 "enable_pattern_cache", "_LOCALE_NORMALIZATION_MAP", "phonenumberutil"):
        try:
            getattr(phonenumbers, name)
        except AttributeError as exc:
            if "available to tools" not in str(exc):
                return "phonenumbers.%s refused for another reason: %s" % (name, exc)
            continue
        return "escaped: phonenumbers.%s is reachable" % name
    formatter = phonenumbers.AsYouTypeFormatter("GB")
    for name in ("_current_metadata", "_default_metadata", "_possible_formats"):
        try:
            getattr(formatter, name)
        except AttributeError as exc:
            if "names starting with '_'" not in str(exc):
                return "%s refused for another reason: %s" % (name, exc)
            continue
        return "escaped: read AsYouTypeFormatter.%s" % name
    return "contained"
