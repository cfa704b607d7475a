# escape: logging's doors: FileHandler/StreamHandler, logging.root and its manager, a custom handler object, the logger's private manager
# layer: views
# expect: contained
# moved: StreamHandler and Formatter were refused as names; they are toolpool's own no-ops now, so
# copied setup code (StreamHandler(), setFormatter(Formatter(...)), addHandler) runs. The doors they
# stood for stay shut: a StreamHandler given a stream is refused, and neither writes or formats anything
import logging


class Sink:
    level = 0

    def handle(self, record):
        return True


def tool(conv):
    for name in ("FileHandler", "Handler", "root", "Manager", "handlers", "config",
                 "setLoggerClass", "getLogRecordFactory", "setLogRecordFactory", "makeLogRecord"):
        try:
            getattr(logging, name)
        except AttributeError as exc:
            if "available to tools" not in str(exc):
                return "logging.%s refused for another reason: %s" % (name, exc)
            continue
        return "escaped: logging.%s is reachable" % name
    logger = logging.getLogger("booking")
    try:
        logging.StreamHandler(Sink())
    except TypeError as exc:
        if "not available to tools" not in str(exc):
            return "StreamHandler(stream) refused for another reason: %s" % exc
    else:
        return "escaped: a StreamHandler took a stream"
    handler = logging.StreamHandler()
    for name in ("stream", "emit", "handle", "format", "formatter"):
        if name != "formatter" and hasattr(handler, name):
            return "escaped: a handler has %s" % name
    for name in ("manager", "_manager", "_handlers"):
        if hasattr(logger, name):
            return "escaped: logger.%s is readable" % name
    try:
        logger.addHandler(Sink())
    except TypeError as exc:
        if "not available to tools" not in str(exc):
            return "addHandler refused for another reason: %s" % exc
    else:
        return "escaped: a custom handler was accepted"
    return "contained"
