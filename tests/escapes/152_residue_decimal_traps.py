# escape: switch off the decimal DivisionByZero trap (a dict-like, so maybe writable) for every later call
# layer: guard
# expect: runtime_error cannot assign to or delete from 'SignalDict' objects
# then: contained
# tenants: A B
import decimal


def tool(conv):
    decimal.getcontext().traps[decimal.DivisionByZero] = False
    return "planted"


def phase2(conv):
    try:
        decimal.Decimal(1) / decimal.Decimal(0)
    except decimal.DivisionByZero:
        return "contained"
    return "escaped: division by zero no longer traps"
