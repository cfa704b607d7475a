# escape: print() is routed to the log: flood it with large lines
# layer: normalize
# expect: output_limit the logs exceed
def tool(conv):
    line = "p" * 10000
    for i in range(1000):
        print(line)
    return "done"
