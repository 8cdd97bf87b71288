#!/usr/bin/env python3
"""A fixed-count pipelined HTTP/1.1 client for bench/instructions/measure.sh.

    client.py PORT PATH TOTAL [CONNECTIONS] [DEPTH]

Opens CONNECTIONS keep-alive connections to 127.0.0.1:PORT and sends TOTAL requests for PATH over them, DEPTH
requests per write (TechEmpower's headers), reading every response (Content-Length framed) before the next write.
Exits non-zero if a response is not `200` or a connection closes early. Standard library only.
"""

import socket
import sys

ACCEPT = {
    "/plaintext": "text/plain,text/html;q=0.9,application/xhtml+xml;q=0.9,application/xml;q=0.8,*/*;q=0.7",
    "/json": "application/json,text/html;q=0.9,application/xhtml+xml;q=0.9,application/xml;q=0.8,*/*;q=0.7",
}


def request(path):
    accept = ACCEPT.get(path, "*/*")
    return (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: {accept}\r\n"
        "Connection: keep-alive\r\nUser-Agent: rotor-bench\r\n\r\n"
    ).encode()


class Reader:
    def __init__(self, sock):
        self.sock = sock
        self.buffer = b""

    def fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise SystemExit("client.py: the server closed a connection early")
        self.buffer += chunk

    def response(self):
        while b"\r\n\r\n" not in self.buffer:
            self.fill()
        head, _, rest = self.buffer.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = lines[0].split(b" ")[1]
        if status != b"200":
            raise SystemExit(f"client.py: the server answered {lines[0].decode(errors='replace')}")
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(rest) < length:
            self.fill()
            head, _, rest = self.buffer.partition(b"\r\n\r\n")
        self.buffer = rest[length:]


def main():
    port, path, total = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    connections = int(sys.argv[4]) if len(sys.argv) > 4 else 16
    depth = int(sys.argv[5]) if len(sys.argv) > 5 else 16
    if total % (connections * depth):
        raise SystemExit("client.py: TOTAL must be a multiple of CONNECTIONS * DEPTH")
    socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(connections)]
    readers = [Reader(sock) for sock in socks]
    batch = request(path) * depth
    for _ in range(total // (connections * depth)):
        for sock in socks:
            sock.sendall(batch)
        for reader in readers:
            for _ in range(depth):
                reader.response()
    for sock in socks:
        sock.close()


if __name__ == "__main__":
    main()
