# escape: switch off the decimal DivisionByZero trap (a dict-like, so maybe writable) for every later call
# layer: process
# expect: contained
# then: contained
# tenants: A B
# moved: the decimal traps were read-only to tools; the call's own context is now writable, and the single-use process keeps the change out of every other call
import decimal


def tool(conv):
    decimal.getcontext().traps[decimal.DivisionByZero] = False
    return "contained" if str(decimal.Decimal(1) / decimal.Decimal(0)) == "Infinity" else "the trap did not change"


def phase2(conv):
    try:
        decimal.Decimal(1) / decimal.Decimal(0)
    except decimal.DivisionByZero:
        return "contained"
    return "escaped: division by zero no longer traps"
