# escape: statistics' private helpers and held modules (_sum, _convert, math, random, sys) and NormalDist through the view
# layer: views
# expect: contained
import statistics


def tool(conv):
    for name in ("_sum", "_convert", "_exact_ratio", "math", "random", "sys", "NormalDist", "correlation"):
        try:
            getattr(statistics, name)
        except AttributeError as exc:
            if "available to tools" not in str(exc):
                return "statistics.%s refused for another reason: %s" % (name, exc)
            continue
        return "escaped: statistics.%s is reachable" % name
    return "contained" if statistics.median([3, 1, 2]) == 2 else "median broke"
