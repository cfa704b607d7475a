# escape: an int of more than 4300 digits: json.dumps in the child or json.loads in the supervisor would raise
# layer: normalize
# expect: invalid_return bits cannot be stored
def tool(conv):
    return {"listen": {"dtmf": {"num_digits": 10**5000}}}
