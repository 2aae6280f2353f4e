"""Input errors shared by forms, the JSON API and socket handlers."""

from __future__ import annotations

from typing import Any


class ValidationError(Exception):
    """Bad input for one field; nothing was stored.

    `code` is "invalid" (HTTP 400) or "conflict" (HTTP 409, e.g. an e-mail already used).
    """

    def __init__(self, field: str, message: Any, code: str = "invalid") -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.code = code


def text(data: dict[str, Any], field: str, *, max_length: int, required: bool = True) -> str | None:
    """Return the stripped string `data[field]`, or raise ValidationError naming the field."""
    from flask_babel import lazy_gettext as _l

    value = data.get(field)
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValidationError(field, _l("This field is required."))
        return None
    if not isinstance(value, str):
        raise ValidationError(field, _l("Must be text."))
    value = value.strip()
    if len(value) > max_length:
        raise ValidationError(field, _l("At most %(n)d characters.", n=max_length))
    return value
