# escape: replace a method of the shared random.Random class so another tenant's generators return tenant A's numbers
# layer: guard
# expect: runtime_error cannot assign to or delete from 'type' objects
# then: contained
# tenants: A B
import random


def fixed(self):
    return 0.5


def tool(conv):
    random.Random.random = fixed
    return "planted"


def phase2(conv):
    # random.Random(5).random() is 0.6229016948897019 in an untouched interpreter.
    if random.Random(5).random() == 0.6229016948897019:
        return "contained"
    return "escaped: random.Random was changed"
