"""Helpers of the security sweeps: who may use a route, and what the database holds."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select

from tests.matrix import HTTP_ROWS, route_key
from tutoring.extensions import db

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
# Whom to ask first for a route: a stranger where the route is public, else staff, who may
# use the most routes, then the session's own tutor and learner, then a partner's liaison.
PREFERENCE = ["anonymous", "coordinator", "admin", "tutor", "learner", "other tutor", "liaison"]


def routes(app: Flask, methods=WRITE_METHODS, prefix: str = "") -> list[tuple[str, str]]:
    """Return (method, template) of every route with one of the methods, as the matrix names it."""
    return sorted(
        (method, route_key(method, rule.rule).split(" ", 1)[1])
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static" and rule.rule.startswith(prefix)
        for method in rule.methods & set(methods)
    )


def allowed_role(method: str, rule: str) -> str:
    """Return a role whose cell in docs/permissions.md is `ok`; coordinator when none is."""
    row = HTTP_ROWS[route_key(method, rule)]
    return next((role for role in PREFERENCE if row[role] == "ok"), "coordinator")


def row_counts() -> dict[str, int]:
    """Return the number of rows of every table (call inside an app context), in one query."""
    tables = db.metadata.sorted_tables
    counts = select(
        *(select(func.count()).select_from(t).scalar_subquery().label(t.name) for t in tables)
    )
    return dict(zip((t.name for t in tables), db.session.execute(counts).one(), strict=True))
