# escape: dateutil.parser.parserinfo.MONTHS is a plain list on the class: an item write makes every later parserinfo() read "March" as July
# layer: views
# expect: contained
# LIVE today: lists are item-writable for tools, and these are the class's shared tables
# (also JUMP, WEEKDAYS, HMS, AMPM, UTCZONE, PERTAIN and the TZOFFSET dict).
from dateutil import parser


def tool(conv):
    try:
        parser.parserinfo.MONTHS[2] = ("Mar", "Marzo")
        parser.parserinfo.MONTHS[6] = ("Jul", "July", "March")
    except Exception as exc:
        return "contained" if type(exc) is TypeError else "failed for another reason: %s" % exc
    month = parser.parse("5 March 2024", parser.parserinfo()).month
    if month != 3:
        return "escaped: parserinfo() now reads March as month %d for every later call" % month
    return "contained"
