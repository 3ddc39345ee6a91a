"""Chapter 5: a chat client in Python's socket module, to talk to select-chat-server.

Run:   python3 examples/05-many-clients/chat-client.py HOST PORT [LINE]

Connects, sends LINE (default "hello from python"), prints every line the server sends, and
leaves after 1 second in which nothing arrives.
"""
import socket
import sys

host, port = sys.argv[1], int(sys.argv[2])
line = sys.argv[3] if len(sys.argv) > 3 else "hello from python"
with socket.create_connection((host, port), timeout=5) as s:
    s.sendall(line.encode() + b"\n")
    s.settimeout(1.0)
    pending = b""
    while True:
        try:
            data = s.recv(4096)
        except TimeoutError:
            break  # a second of quiet: time to go
        if not data:
            break  # the server closed the connection
        pending += data
        *lines, pending = pending.split(b"\n")
        for got in lines:
            print(got.decode(), flush=True)
print("(python client leaves)", flush=True)
