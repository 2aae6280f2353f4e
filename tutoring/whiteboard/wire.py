"""The JSON module of the Socket.IO server: the standard one, plus pre-encoded parts.

A `join` reply of a big board is megabytes of JSON that the replay cache already holds as
text. Handing it to Socket.IO as Python lists would make the server walk every number twice
(python-socketio's search for binary data, then `json.dumps`), which is most of a join's
time. `RawJSON` wraps text that is already JSON; `dumps` writes it into the message as it
is. Everything else is encoded exactly as `json.dumps` does, and `loads` is engine.io's
(which refuses absurdly long integers).
"""

from __future__ import annotations

import json
import secrets
from typing import Any

from engineio.json import loads  # noqa: F401  (part of this module's interface)


class RawJSON:
    """A piece of JSON text to be written into a message unchanged (it must be valid JSON)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return f"RawJSON({len(self.text)} characters)"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RawJSON) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)


def dumps(obj: Any, **kwargs: Any) -> str:
    """Encode like json.dumps; each RawJSON inside is written as its text."""
    raws: list[str] = []
    # A marker no encoded value can contain: a NUL (never accepted from clients) and a
    # random word, drawn only for a message that has raw parts (most have none).
    nonce: list[str] = []
    fallback = kwargs.pop("default", None)

    def default(value: Any) -> Any:
        if isinstance(value, RawJSON):
            if not nonce:
                nonce.append(secrets.token_hex(8))
            raws.append(value.text)
            return f"\x00raw:{nonce[0]}:{len(raws) - 1}\x00"
        if fallback is not None:
            return fallback(value)
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")

    text = json.dumps(obj, default=default, **kwargs)
    ascii_only = kwargs.get("ensure_ascii", True)
    for number, raw in enumerate(raws):
        marker = json.dumps(f"\x00raw:{nonce[0]}:{number}\x00", ensure_ascii=ascii_only)
        text = text.replace(marker, raw, 1)
    return text
