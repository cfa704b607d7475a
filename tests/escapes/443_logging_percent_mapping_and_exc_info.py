# escape: %-style logging with a mapping argument and exc_info of a runtime-raised exception, hoping for attribute walks or runtime frames
# layer: views
# expect: contained
# The stand-in formats with `msg % args` only (items, never attributes); exc_info tracebacks
# keep the customer's frames. The log text is not visible to the tool, so this checks that
# neither raises and that a {}-style field is left as text.
import logging

import phonenumbers


class Probe(dict):
    def __getitem__(self, key):
        PROBED.append(key)
        return "value"


PROBED = []


def tool(conv):
    logger = logging.getLogger("probe")
    logger.info("%(__class__)s {0.__init__.__globals__}", Probe(a=1))
    try:
        phonenumbers.parse("not a number", "ZZ")
    except phonenumbers.NumberParseException as exc:
        logger.error("parse failed", exc_info=exc)
        logger.exception("parse failed")
    adapter = logging.LoggerAdapter(logger, {"call": conv})
    adapter.info("%s", adapter.extra is not None)
    if PROBED != ["__class__"]:
        return "the mapping was read as %r" % PROBED
    return "contained"
