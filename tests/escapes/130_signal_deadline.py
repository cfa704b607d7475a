# escape: ignore SIGALRM (or re-arm the timer) to defeat the deadline
# layer: compile
# expect: compile_error import of 'signal' is not allowed
import signal


def tool(conv):
    signal.signal(signal.SIGALRM, signal.SIG_IGN)
    signal.setitimer(signal.ITIMER_REAL, 0)
    while True:
        pass
