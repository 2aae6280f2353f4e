"""The permission matrix of docs/permissions.md, checked row by row against the app.

Every registered route must have a row; every row is requested as each kind of person.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from tests.conftest import csrf_token
from tests.matrix import (
    HTTP_ROWS,
    NOT_IN_MATRIX,
    ORDER,
    SOCKET_ROWS,
    concrete_path,
    route_key,
)
from tutoring.extensions import socketio


def test_every_route_has_a_row_and_every_row_a_route(app):
    routes = {
        route_key(method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.endpoint not in NOT_IN_MATRIX
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert sorted(routes - set(HTTP_ROWS)) == [], "add these routes to docs/permissions.md"
    assert sorted(set(HTTP_ROWS) - routes) == [], "these rows of docs/permissions.md name no route"


def outcome(response) -> str:
    if (
        response.status_code in (301, 302, 303)
        and urlsplit(response.headers["Location"]).path == "/login"
    ):
        return "login"
    if response.status_code in (401, 403, 404):
        return str(response.status_code)
    assert response.status_code not in (405, 500), response.status_code
    return "ok"


# Requests that delete what they name run once per person, each on a fresh database:
# otherwise the first person allowed would leave nothing for the next one.
DESTRUCTIVE = re.compile(r"/(delete|erase|withdraw)$")
HTTP_CASES = [
    pytest.param(line, role, id=f"{line} as {role}" if role else line)
    for line in sorted(HTTP_ROWS)
    for role in (ORDER if DESTRUCTIVE.search(line) else [None])
]


@pytest.mark.parametrize(("request_line", "only_role"), HTTP_CASES)
def test_each_person_gets_the_documented_answer(app, world, login_as, request_line, only_role):
    method, template = request_line.split(" ", 1)
    roles = [only_role] if only_role else ORDER
    expected = {role: HTTP_ROWS[request_line][role] for role in roles}
    path = concrete_path(template, world)
    got = {}
    for role in roles:
        client = app.test_client()
        if role != "anonymous":
            login_as(world["people"][role], client)
        token = csrf_token(client, "/login" if role == "anonymous" else "/settings")
        kwargs = {"headers": {"X-CSRFToken": token}}
        if method != "GET":
            kwargs["json" if path.startswith("/api/") else "data"] = (
                {} if path.startswith("/api/") else {"csrf_token": token}
            )
        with client.open(path, method=method, **kwargs) as response:
            got[role] = outcome(response)
    assert got == expected


def socket_outcome(answer) -> str:
    return "ok" if answer.get("ok") else answer["error"]["code"]


@pytest.mark.parametrize("event", sorted(SOCKET_ROWS))
def test_socket_events_follow_the_matrix(app, world, login_as, event):
    from tests.whiteboard.conftest import stroke_payload

    expected = SOCKET_ROWS[event]
    got = {}
    for role in ORDER:
        client = app.test_client()
        if role != "anonymous":
            login_as(world["people"][role], client)
        socket = socketio.test_client(app, namespace="/whiteboard", flask_test_client=client)
        if not socket.is_connected("/whiteboard"):
            got[role] = "refused"
            continue
        joined = socket.emit(
            "join",
            {"session_id": world["values"]["session_id"]},
            namespace="/whiteboard",
            callback=True,
        )
        if event == "connect":
            answer = {"ok": True}
        elif event == "join":
            answer = joined
        elif event == "stroke":
            answer = socket.emit(
                "stroke", stroke_payload(f"p-{role}"), namespace="/whiteboard", callback=True
            )
        else:
            answer = socket.emit("clear", {"page": 0}, namespace="/whiteboard", callback=True)
        got[role] = socket_outcome(answer)
        socket.disconnect(namespace="/whiteboard")
    assert got == {role: expected[role] for role in ORDER}
