# escape: logging.basicConfig(filename=...) to have logging open a file
# layer: views
# expect: runtime_error logging.basicConfig(filename=...) is not available to tools
import logging


def tool(conv):
    logging.basicConfig(filename="/tmp/records.log", level=logging.INFO)
    return "escaped: basicConfig accepted a file"
