"""The gunicorn worker of `serve-prod`: gevent-websocket's, with gunicorn's access log.

gevent-websocket's handler writes its own request lines to a logger of its own (silent by
default) instead of gunicorn's access log, so `--logger-class tutoring.logs.GunicornLogger`
and `--access-logfile` would never see a request. Taking gunicorn's gevent handler's
`log_request` (and the `RAW_URI` it logs) brings the access log, with its redaction, back.

Its WebSocket reads frames in pure Python one byte at a time: unmasking a client's frame is a
Python loop over its bytes and UTF-8 is checked by a Python state machine (twice), which
was a fifth of the server's time under the whiteboard's load (docs/benchmarks.md). It also
reads a frame of any announced length into memory before engine.io can refuse it.
`WebSocket` below reads frames the same way with the unmasking done on whole integers, the
UTF-8 checked once by decoding, and frames over the largest legal message refused unread.
Imported only inside the server processes: it imports gevent.
"""

from __future__ import annotations

from geventwebsocket import handler as websocket_handler
from geventwebsocket import websocket
from geventwebsocket.exceptions import FrameTooLargeException, ProtocolError, WebSocketError
from geventwebsocket.gunicorn.workers import GeventWebSocketWorker
from gunicorn.workers.ggevent import PyWSGIHandler

from tutoring.config import SOCKETIO_MAX_MESSAGE_BYTES

# Engine.io refuses a message over SOCKETIO_MAX_MESSAGE_BYTES once it has it; frames (and
# fragmented messages) beyond that plus its framing are refused before being read.
MAX_MESSAGE_BYTES = SOCKETIO_MAX_MESSAGE_BYTES + 1024


def unmask(payload: bytes, mask: bytes) -> bytes:
    """XOR a client's frame with its 4-byte mask (RFC 6455 5.3), as one big integer."""
    length = len(payload)
    if not length:
        return b""
    key = (mask * (length // 4 + 1))[:length]
    masked = int.from_bytes(payload, "little") ^ int.from_bytes(key, "little")
    return masked.to_bytes(length, "little")


class WebSocket(websocket.WebSocket):
    """gevent-websocket's WebSocket, reading frames without per-byte Python work."""

    message_bytes = 0  # of the message being read, over its frames

    def read_frame(self):
        header = websocket.Header.decode_header(self.stream)
        if header.flags:
            raise ProtocolError
        if header.opcode in (self.OPCODE_TEXT, self.OPCODE_BINARY):
            self.message_bytes = 0
        if header.opcode <= self.OPCODE_BINARY:  # data, not a control frame
            self.message_bytes += header.length
            if self.message_bytes > MAX_MESSAGE_BYTES:
                raise FrameTooLargeException("message too large")
        if not header.length:
            return header, b""
        try:
            payload = self.raw_read(header.length)
        except Exception:  # noqa: BLE001  (as gevent-websocket: a short read ends the socket)
            payload = b""
        if len(payload) != header.length:
            raise WebSocketError("Unexpected EOF reading frame payload")
        if header.mask:
            payload = unmask(payload, header.mask)
        return header, payload

    def validate_utf8(self, payload) -> None:
        """Leave the check to read_message, which decodes the whole text (closing on bad UTF-8)."""


# gevent-websocket's handler makes its WebSocket by this module-level name.
websocket_handler.WebSocket = WebSocket


class AccessLoggedWebSocketHandler(PyWSGIHandler, websocket_handler.WebSocketHandler):
    """WebSocket upgrades from gevent-websocket, request lines to gunicorn's access log."""


class Worker(GeventWebSocketWorker):
    wsgi_handler = AccessLoggedWebSocketHandler
