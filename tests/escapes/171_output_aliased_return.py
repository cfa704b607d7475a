# escape: a small list of references to one big string serializes to 100 MB: amplification between memory use and output size
# layer: normalize
# expect: output_limit the return value exceeds
def tool(conv):
    chunk = "y" * 10000
    return [chunk] * 10000
