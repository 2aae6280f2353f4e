"""Error pages for people and the JSON error format of CONTRACT.md for the API."""

from __future__ import annotations

import traceback

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable

from tutoring.logs import loggable_url
from tutoring.validation import ValidationError

CODES = {
    400: "invalid",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    410: "gone",
    413: "too_large",
    429: "rate_limited",
    500: "server_error",
    503: "unavailable",
}


def wants_json() -> bool:
    """Tell whether this request is answered in JSON: the API and socket transport."""
    return request.path.startswith("/api/")


def json_error(
    status: int,
    message: str,
    code: str | None = None,
    field: str | None = None,
    details: dict | None = None,
):
    """Return the API's error response."""
    error = {"code": code or CODES.get(status, "error"), "message": str(message)}
    if field:
        error["field"] = field
    error.update(details or {})
    response = jsonify({"error": error})
    response.status_code = status
    return response


def _messages() -> dict[int, str]:
    return {
        400: _("The request could not be understood."),
        401: _("Sign in first."),
        403: _("You do not have access to this page."),
        404: _("This page does not exist or is not available to you."),
        405: _("This method is not allowed here."),
        409: _("This conflicts with existing data."),
        410: _("This link is no longer valid."),
        413: _("The upload is too large."),
        429: _("Too many requests. Please wait a moment and try again."),
        500: _("Something went wrong on our side. Please try again later."),
        503: _("The service is temporarily unavailable."),
    }


def register_error_handlers(app: Flask) -> None:
    """Answer every error as JSON under /api/ and as a page elsewhere."""

    @app.errorhandler(ValidationError)
    def validation_error(error: ValidationError):
        status = 409 if error.code == "conflict" else 400
        if wants_json():
            return json_error(status, error.message, error.code, error.field, error.details)
        return render_template("error.html", status=status, message=str(error.message)), status

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        message = _("The form expired or was sent from elsewhere. Reload the page and try again.")
        if wants_json():
            return json_error(400, message, "csrf")
        return render_template("error.html", status=400, message=message), 400

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        status = error.code or 500
        if error.response is not None and not wants_json():
            return error.response  # a page made for this error, e.g. the sign-in form at 429
        message = _messages().get(status, error.description or "")
        if wants_json():
            response = json_error(status, message)
        else:
            response = app.make_response(
                (render_template("error.html", status=status, message=message), status)
            )
        if error.response is not None:  # keep Retry-After, Allow and similar headers
            for header in ("Retry-After", "Allow"):
                if header in error.response.headers:
                    response.headers[header] = error.response.headers[header]
        if status == 405 and hasattr(error, "valid_methods") and error.valid_methods:
            response.headers["Allow"] = ", ".join(error.valid_methods)
        return response

    @app.errorhandler(OperationalError)
    def database_unavailable(error: OperationalError):
        # The database does not answer (restarting, network): a temporary 503, nothing half done.
        from flask import g

        from tutoring.extensions import db, login_manager

        db.session.rollback()
        # The signed-in user came from the database that failed, and the rollback expired it:
        # answering (the language, the page's menu) would load it again and fail with a 500.
        g._login_user = login_manager.anonymous_user()
        app.logger.warning(
            "database unavailable on %s %s: %s",
            request.method,
            loggable_url(request.path),
            type(error.orig).__name__,
        )
        return http_error(ServiceUnavailable())

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        if isinstance(error, HTTPException):
            return http_error(error)
        path = loggable_url(request.path)
        if isinstance(error, DBAPIError):
            from tutoring.extensions import db

            db.session.rollback()  # the error page and after-request hooks may still query
            # The database's own message quotes values (PostgreSQL: "Key (email)=(…) already
            # exists"): log where it happened and the kind of error, not the message.
            stack = "".join(traceback.format_tb(error.__traceback__))
            app.logger.error(
                "unhandled error on %s %s: %s (%s)\n%s",
                request.method,
                path,
                type(error).__name__,
                type(error.orig).__name__,
                stack,
            )
        else:
            app.logger.exception("unhandled error on %s %s", request.method, path)
        return http_error(InternalServerError())
