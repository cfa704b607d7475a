# escape: write an endless stream of log records
# layer: normalize
# expect: output_limit the logs exceed
def tool(conv):
    for i in range(100000):
        log.info("flood " + str(i))
    return "done"
