# escape: an exception raised inside the runtime (json's decoder, the guard) carries __context__/__cause__: walk the chain and take a traceback from any link
# layer: guard
# expect: contained
import json


def tool(conv):
    chain = []
    try:
        json.loads("{")
    except ValueError as error:
        link = error
        while link is not None:
            chain.append(link)
            link = link.__context__ or link.__cause__
    try:
        conv.utils._secrets
    except AttributeError as error:
        chain.append(error)
        guard_context = error.__context__
    refused = 0
    for link in chain:
        try:
            getattr(link, "__trace" + "back__")
        except AttributeError as error:
            refused += "an exception's traceback" in str(error)
    if chain and refused == len(chain) and guard_context is None:
        return "contained"
    return f"escaped: {refused} of {len(chain)} refused"
