# escape: subclass phonenumbers.AsYouTypeFormatter: its __init__ stores the shared PhoneMetadata under a private name in what is now the tool's instance; clear its format lists
# layer: guard
# expect: contained
# LIVE today: a private name in a tool instance's __dict__ counts as the tool's, even when the
# library's __init__ put it there; the metadata's number_format is a plain (item-writable)
# list shared by every later call in the process.
import phonenumbers


class Formatter(phonenumbers.AsYouTypeFormatter):
    pass


def national(number):
    return phonenumbers.format_number(phonenumbers.parse(number, None), phonenumbers.PhoneNumberFormat.NATIONAL)


def tool(conv):
    before = national("+442079460000")
    try:
        metadata = Formatter("GB")._current_metadata
        metadata.number_format.clear()
    except (AttributeError, TypeError) as exc:
        return "contained" if "tool" in str(exc) else "failed for another reason: %s" % exc
    after = national("+442079460000")
    if after != before:
        return "escaped: GB numbers now format as %r instead of %r for every later call" % (after, before)
    return "escaped: read and cleared the shared GB metadata"
