"""Input errors shared by forms, the JSON API and socket handlers."""

from __future__ import annotations

from typing import Any

# The largest id an Integer column holds on every database (PostgreSQL's int4).
MAX_ROW_ID = 2**31 - 1


class ValidationError(Exception):
    """Bad input for one field; nothing was stored.

    `code` is "invalid" (HTTP 400) or "conflict" (HTTP 409, e.g. an e-mail already used).
    """

    def __init__(
        self, field: str, message: Any, code: str = "invalid", details: dict | None = None
    ) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.code = code
        # Extra members of the API's error object, e.g. the clashing sessions of a conflict.
        self.details = details or {}


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


def integer(
    data: dict[str, Any], field: str, *, minimum: int, maximum: int, default: int | None = None
) -> int:
    """Return data[field] as an int within bounds (bools and strings refused)."""
    from flask_babel import lazy_gettext as _l

    value = data.get(field, default)
    if value is None:
        raise ValidationError(field, _l("This field is required."))
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(field, _l("Must be a whole number."))
    if not minimum <= value <= maximum:
        raise ValidationError(
            field, _l("Must be between %(min)d and %(max)d.", min=minimum, max=maximum)
        )
    return value


def choice(data: dict[str, Any], field: str, enum_class, default=None):
    """Return the member of enum_class named by data[field]."""
    from flask_babel import lazy_gettext as _l

    value = data.get(field, default)
    if value is None:
        raise ValidationError(field, _l("This field is required."))
    if isinstance(value, enum_class):
        return value
    try:
        return enum_class(value)
    except (ValueError, TypeError):
        allowed = ", ".join(member.value for member in enum_class)
        raise ValidationError(field, _l("Must be one of: %(allowed)s.", allowed=allowed)) from None
