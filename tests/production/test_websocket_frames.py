"""The production worker's WebSocket frames (tutoring/gunicorn_worker.py), byte by byte.

A raw socket speaks RFC 6455 to a real `serve-prod` process: fragmented and masked frames
reassemble into the message the client meant, invalid UTF-8 closes the socket, and a frame
announcing more than the largest legal message is refused before its payload is sent.
"""

from __future__ import annotations

import base64
import json
import os
import random
import socket
import struct
from urllib.parse import urlsplit

import pytest

pytestmark = [pytest.mark.postgres]

TEXT, CONTINUATION, CLOSE = 0x1, 0x0, 0x8


def reference_unmask(payload: bytes, mask: bytes) -> bytes:
    return bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))


@pytest.mark.parametrize("length", [0, 1, 3, 4, 5, 125, 126, 65535, 65536, 100_003])
def test_unmask_matches_the_rfc(length):
    pytest.importorskip("geventwebsocket")
    from tutoring.gunicorn_worker import unmask

    generator = random.Random(length)
    payload = generator.randbytes(length)
    mask = generator.randbytes(4)
    assert unmask(payload, mask) == reference_unmask(payload, mask)
    assert unmask(unmask(payload, mask), mask) == payload


def frame(opcode: int, payload: bytes, *, fin: bool = True, length: int | None = None) -> bytes:
    """Return a client frame (masked, as RFC 6455 requires of clients)."""
    length = len(payload) if length is None else length
    head = bytes([(0x80 if fin else 0) | opcode])
    if length < 126:
        head += bytes([0x80 | length])
    elif length < 2**16:
        head += bytes([0x80 | 126]) + struct.pack("!H", length)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", length)
    mask = os.urandom(4)
    return head + mask + reference_unmask(payload, mask)


class RawWebSocket:
    """Just enough of a WebSocket client to send chosen frames to engine.io."""

    def __init__(self, url: str) -> None:
        address = urlsplit(url)
        self.sock = socket.create_connection((address.hostname, address.port), timeout=10)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            (
                "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
                f"Host: {address.netloc}\r\nOrigin: {url}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        self.buffer = b""
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self._recv()
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 101"), head

    def _recv(self) -> bytes:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError
        return chunk

    def _take(self, count: int) -> bytes:
        while len(self.buffer) < count:
            self.buffer += self._recv()
        taken, self.buffer = self.buffer[:count], self.buffer[count:]
        return taken

    def read(self) -> tuple[int, bytes]:
        """Return the next server frame's opcode and payload (servers don't mask)."""
        first, second = self._take(2)
        length = second & 0x7F
        if length == 126:
            length = struct.unpack("!H", self._take(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", self._take(8))[0]
        return first & 0x0F, self._take(length)

    def read_text(self) -> str:
        opcode, payload = self.read()
        assert opcode == TEXT, (opcode, payload)
        return payload.decode()

    def close(self) -> None:
        self.sock.close()


def test_frames_are_read_as_rfc_6455_has_them(production):
    server = production(workers=1, redis=False)
    url = server.urls[0]

    # A message in two masked fragments reaches Socket.IO whole: the connect is accepted.
    client = RawWebSocket(url)
    try:
        assert client.read_text().startswith("0{")  # engine.io open
        connect = ("40/whiteboard," + json.dumps({"token": server.seed.learner_token})).encode()
        client.sock.sendall(
            frame(TEXT, connect[:20], fin=False) + frame(CONTINUATION, connect[20:])
        )
        answer = client.read_text()
        assert answer.startswith("40/whiteboard,"), answer
        assert '"sid"' in answer
        # A join with a long payload (masked 16-bit length) is answered.
        pad = "x" * 300
        join = f'42/whiteboard,1["join",{{"session_id":{server.seed.session_id},"pad":"{pad}"}}]'
        client.sock.sendall(frame(TEXT, join.encode()))
        reply = client.read_text()
        assert reply.startswith("43/whiteboard,1"), reply
        assert json.loads(reply.split(",", 1)[1][1:])[0]["ok"] is True
    finally:
        client.close()

    # Text that is not UTF-8 closes the socket (gevent-websocket sends no status code).
    client = RawWebSocket(url)
    try:
        client.read_text()
        client.sock.sendall(frame(TEXT, b"4\xff\xfe"))
        opcode, payload = client.read()
        assert opcode == CLOSE
    finally:
        client.close()

    # A frame announcing 100 MB is refused at its header: the server closes without waiting.
    client = RawWebSocket(url)
    try:
        client.read_text()
        client.sock.sendall(frame(TEXT, b"", length=100 * 2**20))  # the header only
        opcode, payload = client.read()  # times out (10 s) if the server waits for the rest
        assert opcode == CLOSE
    finally:
        client.close()
    assert "Traceback" not in server.output()
