# escape: csv with a file: csv.reader given a path (str), a tool file-like object, and the process-wide dialect/size settings
# layer: views
# expect: contained
# csv.reader iterates what it is given: a path string is read as characters, never opened.
import csv
import io


class Sink:
    def __init__(self):
        self.lines = []

    def write(self, line):
        self.lines.append(line)


def tool(conv):
    rows = list(csv.reader("/etc/passwd"))
    if rows[:2] != [["/"], ["e"]]:
        return "escaped: csv.reader read %r" % rows[:3]
    sink = Sink()
    csv.writer(sink).writerow(["a", "b"])
    if sink.lines != ["a,b\r\n"]:
        return "the tool's file-like object was not used as expected: %r" % sink.lines
    for name in ("register_dialect", "unregister_dialect", "field_size_limit"):
        try:
            getattr(csv, name)
        except AttributeError as exc:
            if "available to tools" not in str(exc):
                return "csv.%s refused for another reason: %s" % (name, exc)
            continue
        return "escaped: csv.%s is reachable" % name
    return "contained" if list(csv.DictReader(io.StringIO("a\n1"))) == [{"a": "1"}] else "DictReader broke"
