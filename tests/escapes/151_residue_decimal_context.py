# escape: lower the process-wide decimal precision so another tenant's money arithmetic rounds wrongly
# layer: process
# expect: contained
# then: contained
# tenants: A B
# moved: the decimal context was read-only to tools; the call's own context is now writable (getcontext().prec = 12 is ordinary Python), and the single-use process keeps the change out of every other call
import decimal


def tool(conv):
    decimal.getcontext().prec = 2
    third = str(decimal.Decimal(1) / decimal.Decimal(3))
    return "contained" if third == "0.33" else "the call's own precision did not apply: " + third


def phase2(conv):
    third = str(decimal.Decimal(1) / decimal.Decimal(3))
    if third == "0." + "3" * 28:
        return "contained"
    return "escaped: decimal precision changed: " + third
