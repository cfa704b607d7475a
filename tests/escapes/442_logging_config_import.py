# escape: logging.config builds handlers and objects from dotted paths in a dict
# layer: compile
# expect: compile_error logging.config
import logging.config


def tool(conv):
    logging.config.dictConfig({"version": 1, "handlers": {"h": {"class": "os.system"}}})
    return "escaped"
