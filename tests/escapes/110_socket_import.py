# escape: open a TCP connection out of the sandbox
# layer: compile
# expect: compile_error import of 'socket' is not allowed
import socket


def tool(conv):
    s = socket.create_connection(("example.com", 80), timeout=1)
    s.sendall(b"GET / HTTP/1.0\r\n\r\n")
    return s.recv(100).decode()
