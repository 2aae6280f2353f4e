"""Keep secrets out of logs: tokens in URLs are replaced before a line is written."""

from __future__ import annotations

import logging
import re

# Invitation links, calendar addresses and room tokens carry their secret in the URL.
SECRET_IN_PATH = re.compile(r"(/invite/|/calendar/|[?&]jwt=)[A-Za-z0-9._~%-]+")


def redact(text: str) -> str:
    """Return text with the secrets of known URLs replaced by [redacted]."""
    return SECRET_IN_PATH.sub(r"\1[redacted]", text)


class RedactSecrets(logging.Filter):
    """A logging filter that redacts secrets from the message and its arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def install() -> None:
    """Attach the filter to the request log of the development server, once."""
    logger = logging.getLogger("werkzeug")
    if not any(isinstance(f, RedactSecrets) for f in logger.filters):
        logger.addFilter(RedactSecrets())
