"""The gunicorn worker of `serve-prod`: gevent-websocket's, with gunicorn's access log.

gevent-websocket's handler writes its own request lines to a logger of its own (silent by
default) instead of gunicorn's access log, so `--logger-class tutoring.logs.GunicornLogger`
and `--access-logfile` would never see a request. Taking gunicorn's gevent handler's
`log_request` (and the `RAW_URI` it logs) brings the access log, with its redaction, back.
Imported only inside the server processes: it imports gevent.
"""

from __future__ import annotations

from geventwebsocket.gunicorn.workers import GeventWebSocketWorker
from geventwebsocket.handler import WebSocketHandler
from gunicorn.workers.ggevent import PyWSGIHandler


class AccessLoggedWebSocketHandler(PyWSGIHandler, WebSocketHandler):
    """WebSocket upgrades from gevent-websocket, request lines to gunicorn's access log."""


class Worker(GeventWebSocketWorker):
    wsgi_handler = AccessLoggedWebSocketHandler
