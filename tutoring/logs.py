"""Keep secrets out of logs: tokens in URLs are replaced before a line is written.

`redact` is the one redaction, used by the development server's request log (a filter on
the `werkzeug` logger) and by `GunicornLogger`, gunicorn's access and error log in
production (`--logger-class tutoring.logs.GunicornLogger`). gunicorn is imported only when
that class is used, so the app itself does not need it.
"""

from __future__ import annotations

import logging
import re
from typing import Any

# Invitation links, calendar addresses and room tokens carry their secret in the URL.
SECRET_IN_PATH = re.compile(r"(/invite/|/calendar/|[?&]jwt=)[A-Za-z0-9._~%-]+")
REDACTED = "[redacted]"
# Request and response headers that carry credentials whatever the URL.
SECRET_HEADERS = frozenset({"authorization", "cookie", "set-cookie", "x-csrftoken"})


def redact(text: str) -> str:
    """Return text with the secrets of known URLs replaced by [redacted]."""
    return SECRET_IN_PATH.sub(rf"\1{REDACTED}", text)


def loggable_url(url: str | None) -> str:
    """Return a path or URL for an access log: secrets redacted, the query string left out.

    A query may hold what someone searched for (a learner's name) or a token: production
    logs keep only that there was one.
    """
    if not url or url == "-":
        return "-"
    path, has_query, _query = url.partition("?")
    return redact(path) + ("?" + REDACTED if has_query else "")


class RedactSecrets(logging.Filter):
    """A logging filter that redacts secrets from the message and its arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def install() -> None:
    """Attach the filter to the request log of the development server, once."""
    logger = logging.getLogger("werkzeug")
    if not any(isinstance(f, RedactSecrets) for f in logger.filters):
        logger.addFilter(RedactSecrets())


def access_atoms(atoms: dict[str, Any]) -> dict[str, Any]:
    """Return gunicorn's access-log atoms with URLs made loggable and credentials removed.

    Whatever `--access-logformat` an operator picks: the request line, path, query and
    Referer lose their secrets, credential headers are replaced, and the WSGI environ
    (`{…}e`, which holds the raw URI and cookies) is left out.
    """
    clean: dict[str, Any] = {}
    for key, value in atoms.items():
        if key.endswith("}e"):
            continue
        if key.startswith("{") and key[1:-2] in SECRET_HEADERS:
            clean[key] = REDACTED
        elif key == "r" and isinstance(value, str):
            method, _, rest = value.partition(" ")
            uri, _, protocol = rest.rpartition(" ")
            clean[key] = f"{method} {loggable_url(uri)} {protocol}"
        elif key in ("U", "f", "{referer}i", "{location}o") and isinstance(value, str):
            clean[key] = loggable_url(value)
        elif key == "q":
            clean[key] = REDACTED if value else "-"
        else:
            clean[key] = redact(value) if isinstance(value, str) else value
    return clean


def __getattr__(name: str):
    # Built on first use: importing gunicorn is only needed where gunicorn runs the app.
    if name == "GunicornLogger":
        from gunicorn.glogging import Logger

        class GunicornLogger(Logger):
            """gunicorn's logger with the app's redaction on the access and error logs."""

            def atoms(self, resp, req, environ, request_time) -> dict[str, Any]:
                return access_atoms(super().atoms(resp, req, environ, request_time))

            def setup(self, cfg) -> None:
                super().setup(cfg)
                for logger in (self.error_log, self.access_log):
                    if not any(isinstance(f, RedactSecrets) for f in logger.filters):
                        logger.addFilter(RedactSecrets())

        globals()["GunicornLogger"] = GunicornLogger
        return GunicornLogger
    raise AttributeError(name)
