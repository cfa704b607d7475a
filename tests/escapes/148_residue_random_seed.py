# escape: seed the shared random generator so the next tenant's "random" numbers are predictable
# layer: process
# expect: contained
# then: contained
# tenants: A B
import random


def tool(conv):
    random.seed(1234)
    return "contained"


def phase2(conv):
    # After random.seed(1234) the first random.random() is 0.9664535356921388.
    if random.random() == 0.9664535356921388:
        return "escaped: the generator carries tenant A's seed"
    return "contained"
