"""Whatever a client sends, the server answers without raising and stores nothing invalid."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tutoring.database import utcnow
from tutoring.extensions import db, socketio
from tutoring.whiteboard.models import BoardItem

EVENTS = ["join", "stroke", "stroke:live", "undo", "redo", "clear", "pointer", "leave", "nonsense"]

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=80),
    lambda children: (
        st.lists(children, max_size=6) | st.dictionaries(st.text(max_size=12), children, max_size=6)
    ),
    max_leaves=30,
)
stroke_like = st.fixed_dictionaries(
    {},
    optional={
        "id": json_values | st.text(min_size=1, max_size=70),
        "page": json_values | st.integers(-3, 1200),
        "tool": json_values | st.sampled_from(["pen", "text", "laser", "rect"]),
        "color": json_values | st.from_regex(r"#[0-9a-fA-Z]{5,7}", fullmatch=True),
        "width": json_values | st.floats(-1, 100),
        "points": json_values
        | st.lists(st.lists(st.floats(allow_nan=True) | st.integers(), max_size=3), max_size=8),
        "text": json_values,
        "pressures": json_values,
        "session_id": json_values,
        "since": json_values,
        "stroke_id": json_values,
        "x": json_values,
        "y": json_values,
    },
)


@pytest.fixture
def socket_client(app, program, book, make_token):
    [session_id] = book(utcnow().replace(microsecond=0) - timedelta(minutes=5))
    client = socketio.test_client(
        app, namespace="/whiteboard", auth={"token": make_token(program.learner)}
    )
    assert client.is_connected("/whiteboard")
    assert client.emit("join", {"session_id": session_id}, namespace="/whiteboard", callback=True)[
        "ok"
    ]
    yield client
    client.disconnect(namespace="/whiteboard")


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(event=st.sampled_from(EVENTS), payload=json_values | stroke_like)
def test_random_payloads_never_raise(app, socket_client, event, payload):
    answer = socket_client.emit(event, payload, namespace="/whiteboard", callback=True)
    assert isinstance(answer, dict)
    assert answer["ok"] in (True, False)
    if not answer["ok"]:
        assert set(answer["error"]) >= {"code", "message"}
    with app.app_context():
        for item in db.session.query(BoardItem):
            assert 0 <= item.page <= 999
            assert item.stroke_id is None or 0 < len(item.stroke_id) <= 64
