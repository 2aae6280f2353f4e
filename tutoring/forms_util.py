"""Helpers shared by the HTML forms of every feature."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask_wtf import FlaskForm

from tutoring.validation import ValidationError


def attach_error(form: FlaskForm, error: ValidationError) -> None:
    """Show a service's ValidationError under the form field it names (or the form)."""
    field = getattr(form, error.field, None)
    if field is not None and hasattr(field, "errors"):
        field.errors = [*field.errors, str(error.message)]
    else:
        form.form_errors.append(str(error.message))


def safe_next(target: str | None, default: str) -> str:
    """Return target if it is a path on this site, else default (no open redirects)."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target:
        return default
    return target
