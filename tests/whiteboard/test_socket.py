"""The /whiteboard namespace with real clients over WebSocket: relay, replay, refusals, limits."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
import socketio

from tests.conftest import csrf_token
from tests.whiteboard.conftest import stroke_payload
from tutoring.attendance.models import PresenceEvent
from tutoring.database import utcnow
from tutoring.extensions import db
from tutoring.whiteboard.models import BoardItem


@pytest.fixture
def tokens(program, make_token):
    return {
        n: make_token(getattr(program, n))
        for n in ("coordinator", "tutor", "other_tutor", "learner", "other_learner")
    }


def stored(app) -> int:
    with app.app_context():
        return db.session.query(BoardItem).count()


def test_stroke_is_stored_and_relayed_to_the_other_participant(
    app, board_client, tokens, program, open_session
):
    tutor, learner = board_client(token=tokens["tutor"]), board_client(token=tokens["learner"])
    assert tutor.call("join", {"session_id": open_session}) == {
        "ok": True,
        "board_id": open_session,
        "last_seq": 0,
        "items": [],
    }
    assert learner.call("join", {"session_id": open_session})["ok"] is True
    assert tutor.call("stroke", stroke_payload("t1")) == {"ok": True, "seq": 1}
    [relayed] = learner.wait_for("stroke")
    assert relayed["seq"] == 1
    assert relayed["author_id"] == program.tutor.id
    assert (relayed["id"], relayed["tool"], relayed["color"], relayed["points"]) == (
        "t1",
        "pen",
        "#1a2b3c",
        [[10, 20], [30, 40.5]],  # CONTRACT.md's pairs, at the stored 0.1 units
    )
    assert tutor.received["stroke"] == []  # the sender is not echoed
    assert stored(app) == 1


def test_live_strokes_and_pointer_are_relayed_not_stored(
    app, board_client, tokens, program, open_session
):
    tutor, learner = board_client(token=tokens["tutor"]), board_client(token=tokens["learner"])
    for client in (tutor, learner):
        client.call("join", {"session_id": open_session})
    assert learner.call(
        "stroke:live",
        {
            "id": "l1",
            "page": 0,
            "tool": "pen",
            "color": "#000000",
            "width": 2,
            "points": [[1, 1], [2, 2]],
        },
    ) == {"ok": True}
    assert learner.call("pointer", {"page": 0, "x": 5, "y": 6}) == {"ok": True}
    [live] = tutor.wait_for("stroke:live")
    assert (live["id"], live["points"], live["author_id"]) == (
        "l1",
        [[1, 1], [2, 2]],
        program.learner.id,
    )
    assert tutor.wait_for("pointer")[0] == {
        "user_id": program.learner.id,
        "page": 0,
        "x": 5,
        "y": 6,
    }
    assert stored(app) == 0


def test_resent_stroke_returns_the_original_seq_and_is_not_broadcast_again(
    app, board_client, tokens, open_session
):
    tutor, learner = board_client(token=tokens["tutor"]), board_client(token=tokens["learner"])
    for client in (tutor, learner):
        client.call("join", {"session_id": open_session})
    first = learner.call("stroke", stroke_payload("dup"))
    again = learner.call("stroke", stroke_payload("dup"))
    assert first == again == {"ok": True, "seq": 1}
    tutor.wait_for("stroke")
    tutor.call(
        "pointer", {"page": 0, "x": 0, "y": 0}
    )  # a round trip, so a late duplicate would have arrived
    assert len(tutor.received["stroke"]) == 1
    assert stored(app) == 1


def test_join_since_replays_exactly_what_was_missed(board_client, tokens, open_session):
    tutor = board_client(token=tokens["tutor"])
    tutor.call("join", {"session_id": open_session})
    for n in range(4):
        tutor.call("stroke", stroke_payload(f"s{n}"))
    late = board_client(token=tokens["learner"])
    full = late.call("join", {"session_id": open_session})
    assert [i["seq"] for i in full["items"]] == [1, 2, 3, 4]
    assert full["last_seq"] == 4
    again = board_client(token=tokens["learner"]).call(
        "join", {"session_id": open_session, "since": 2}
    )
    assert [i["id"] for i in again["items"]] == ["s2", "s3"]


def test_compact_join_is_an_opt_in_and_leaves_out_what_a_clear_hid(
    board_client, tokens, open_session
):
    tutor = board_client(token=tokens["tutor"])
    tutor.call("join", {"session_id": open_session})
    tutor.call("stroke", stroke_payload("hidden"))
    tutor.call("clear", {"page": 0})
    tutor.call("stroke", stroke_payload("shown", points=[[1.04, 2], [3, 4.25]]))
    learner = board_client(token=tokens["learner"])
    contract = learner.call("join", {"session_id": open_session})
    assert "encoding" not in contract
    assert [(i["seq"], i.get("points")) for i in contract["items"]] == [
        (1, [[10, 20], [30, 40.5]]),
        (2, None),
        (3, [[1, 2], [3, 4.2]]),
    ]
    compact = learner.call("join", {"session_id": open_session, "encoding": "compact"})
    assert (compact["encoding"], compact["last_seq"]) == ("compact", 3)
    assert [(i["seq"], i.get("points")) for i in compact["items"]] == [
        (2, None),
        (3, [1, 2, 3, 4.2]),
    ]
    since = learner.call("join", {"session_id": open_session, "since": 2, "encoding": "compact"})
    assert [i["id"] for i in since["items"]] == ["shown"]


def test_undo_redo_and_clear_are_broadcast(board_client, tokens, open_session):
    tutor, learner = board_client(token=tokens["tutor"]), board_client(token=tokens["learner"])
    for client in (tutor, learner):
        client.call("join", {"session_id": open_session})
    learner.call("stroke", stroke_payload("mine"))
    assert learner.call("undo", {"stroke_id": "mine"}) == {"ok": True, "seq": 2}
    assert tutor.wait_for("erase")[0] == {"seq": 2, "stroke_id": "mine"}
    assert learner.call("redo", {"stroke_id": "mine"}) == {"ok": True, "seq": 3}
    assert tutor.wait_for("restore")[0] == {"seq": 3, "stroke_id": "mine"}
    refused = learner.call("clear", {"page": 0})
    assert refused["ok"] is False
    assert refused["error"]["code"] == "forbidden"
    assert tutor.call("clear", {"page": 0}) == {"ok": True, "seq": 4}
    assert learner.wait_for("clear")[0] == {"seq": 4, "page": 0}


def test_connect_without_credentials_is_refused(live_server):
    for auth in (None, {"token": "mnb_forged"}, {"token": 12}):
        client = socketio.Client(reconnection=False)
        with pytest.raises(socketio.exceptions.ConnectionError):
            client.connect(
                live_server,
                namespaces=["/whiteboard"],
                auth=auth,
                transports=["websocket"],
                wait_timeout=5,
            )


def test_browser_session_cookie_connects(app, board_client, program, open_session, login_as):
    browser = app.test_client()
    login_as(program.learner, browser)
    browser.get("/")
    cookie = f"session={browser.get_cookie('session').value}"
    client = board_client(cookie=cookie)
    assert client.call("join", {"session_id": open_session})["ok"] is True


@pytest.mark.parametrize("who", ["other_learner", "other_tutor"])
def test_strangers_cannot_join(app, board_client, tokens, open_session, who):
    answer = board_client(token=tokens[who]).call("join", {"session_id": open_session})
    assert answer["ok"] is False
    assert answer["error"]["code"] == "not_found"
    with app.app_context():
        assert db.session.query(PresenceEvent).count() == 0


def test_closed_room_cannot_be_joined(board_client, tokens, book):
    [later] = book(utcnow() + timedelta(days=1))
    answer = board_client(token=tokens["learner"]).call("join", {"session_id": later})
    assert answer["error"]["code"] == "room_closed"


def test_drawing_before_joining_is_refused(app, board_client, tokens):
    answer = board_client(token=tokens["learner"]).call("stroke", stroke_payload())
    assert answer["error"]["code"] == "not_joined"
    assert stored(app) == 0


INVALID_STROKES = [
    ({"color": "red"}, "color"),
    ({"color": "#12345g"}, "color"),
    ({"width": 1000}, "width"),
    ({"width": 0.1}, "width"),
    ({"points": []}, "points"),
    ({"points": [[1, 2]] * 5001}, "points"),
    ({"page": -1}, "page"),
    ({"tool": "spraycan"}, "tool"),
    ({"id": None}, "id"),
    ({"id": "x" * 65}, "id"),
    ({"tool": "text", "text": "あ" * 2001}, "text"),
    ({"points": [[1, "2"]]}, "points"),
]


@pytest.mark.parametrize(("overrides", "field"), INVALID_STROKES)
def test_every_invalid_stroke_gets_an_error_ack_and_stores_nothing(
    app, board_client, tokens, open_session, overrides, field
):
    client = board_client(token=tokens["learner"])
    client.call("join", {"session_id": open_session})
    answer = client.call("stroke", stroke_payload(**overrides))
    assert answer["ok"] is False
    assert answer["error"]["field"] == field
    assert stored(app) == 0


def test_nan_and_infinity_are_refused(app, board_client, tokens, open_session):
    # Python's json writes NaN and Infinity as bare tokens, as a hostile client could.
    client = board_client(token=tokens["learner"])
    client.call("join", {"session_id": open_session})
    for bad in (float("nan"), float("inf"), float("-inf")):
        answer = client.call("stroke", stroke_payload(points=[[bad, 1]]))
        assert answer["ok"] is False
        assert answer["error"]["field"] == "points"
    assert stored(app) == 0


@pytest.mark.parametrize(
    "payload",
    [None, "text", 42, [], {"session_id": "1"}, {"session_id": -3}, {"session_id": 1, "since": -1}],
)
def test_malformed_join_gets_an_error_ack(board_client, tokens, payload):
    answer = board_client(token=tokens["learner"]).call("join", payload)
    assert answer["ok"] is False


@pytest.mark.parametrize("encoding", ["flat", "", 1, ["compact"]])
def test_an_unknown_encoding_is_refused_naming_the_field(
    board_client, tokens, open_session, encoding
):
    client = board_client(token=tokens["learner"])
    answer = client.call("join", {"session_id": open_session, "encoding": encoding})
    assert (answer["ok"], answer["error"]["field"]) == (False, "encoding")


def test_unknown_events_get_an_error_ack(board_client, tokens):
    answer = board_client(token=tokens["learner"]).call("explode", {"x": 1})
    assert answer == {"ok": False, "error": {"code": "unknown_event", "message": "Unknown event."}}


def test_a_flood_is_refused_then_disconnected(monkeypatch, board_client, tokens, open_session):
    from tutoring.extensions import socketio as server
    from tutoring.whiteboard import events

    # A loaded test machine holds the server up now and then; that must not excuse the flood
    # here (the excuse has its own tests).
    namespace = server.server.namespace_handlers[events.NAMESPACE]
    monkeypatch.setattr(events, "SLOW_HANDLER_SECONDS", float("inf"))
    monkeypatch.setattr(namespace.stalls, "tolerance", float("inf"))
    client = board_client(token=tokens["learner"])
    client.call("join", {"session_id": open_session})
    answers = []
    for _ in range(400):
        if not client.sio.connected:
            break
        try:
            answers.append(client.call("pointer", {"page": 0, "x": 1, "y": 1}, timeout=2))
        except socketio.exceptions.TimeoutError:
            break
    codes = [a["error"]["code"] for a in answers if not a["ok"]]
    assert "rate_limited" in codes
    client.sio.sleep(0.5)
    assert not client.sio.connected


def test_presence_follows_join_and_disconnect(app, board_client, tokens, program, open_session):
    client = board_client(token=tokens["learner"])
    client.call("join", {"session_id": open_session})
    client.close()
    client.sio.sleep(0.5)
    with app.app_context():
        events = [
            (e.user_id, e.source.value, e.kind.value)
            for e in db.session.query(PresenceEvent).order_by(PresenceEvent.id)
        ]
    assert events == [
        (program.learner.id, "whiteboard", "joined"),
        (program.learner.id, "whiteboard", "left"),
    ]


def test_signing_out_disconnects_the_socket(app, board_client, program, open_session, login_as):
    browser = app.test_client()
    login_as(program.learner, browser)
    browser.get("/")
    client = board_client(cookie=f"session={browser.get_cookie('session').value}")
    client.call("join", {"session_id": open_session})
    browser.post("/logout", data={"csrf_token": csrf_token(browser, "/settings")})
    client.sio.sleep(0.5)
    assert not client.sio.connected


def test_disabled_account_is_disconnected_before_its_next_event(
    app, board_client, tokens, program, open_session
):
    client = board_client(token=tokens["learner"])
    client.call("join", {"session_id": open_session})
    with app.app_context():
        from tutoring.people.models import User

        db.session.get(User, program.learner.id).active = False
        db.session.commit()
    answer = client.call("stroke", stroke_payload())
    assert answer["error"]["code"] == "unauthorized"
    assert stored(app) == 0


def test_a_handshake_from_a_foreign_origin_is_refused(live_server, tokens, program):
    import engineio

    client = socketio.Client(reconnection=False)
    with pytest.raises((socketio.exceptions.ConnectionError, engineio.exceptions.ConnectionError)):
        client.connect(
            live_server,
            namespaces=["/whiteboard"],
            auth={"token": tokens["learner"]},
            headers={"Origin": "https://evil.example.net"},
            transports=["websocket"],
            wait_timeout=5,
        )
    # Every other test here connects with the client's default Origin, this site's own.


def test_a_slow_answer_excuses_the_backlog_behind_it(
    monkeypatch, board_client, tokens, open_session
):
    from tutoring.extensions import socketio as server
    from tutoring.whiteboard import events

    namespace = server.server.namespace_handlers[events.NAMESPACE]
    client = board_client(token=tokens["learner"])
    client.call("join", {"session_id": open_session})
    [connection] = [
        c for sid, c in namespace.connections.items() if sid == client.sio.get_sid(events.NAMESPACE)
    ]
    assert namespace.watching  # the stall ticker runs while anyone is connected
    monkeypatch.setattr(events, "SLOW_HANDLER_SECONDS", 0.0)  # every answer counts as slow
    before = time.monotonic()
    assert client.call("stroke", stroke_payload("slow"))["ok"] is True
    bucket = connection.guard.messages
    assert bucket.extra > 0
    assert bucket.extra_until >= before + 1.0  # for at least a second after the answer


def test_websocket_compression_offered_by_a_browser_is_not_taken(live_server):
    """A big replay is not deflated by the one server process (see WithoutWebSocketCompression)."""
    import base64
    import os
    import socket
    from urllib.parse import urlsplit

    address = urlsplit(live_server)
    with socket.create_connection((address.hostname, address.port), timeout=5) as sock:
        key = base64.b64encode(os.urandom(16)).decode()
        sock.sendall(
            (
                "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
                f"Host: {address.netloc}\r\n"
                "Upgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
                f"Origin: {live_server}\r\n\r\n"
            ).encode()
        )
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    head = answer.split(b"\r\n\r\n", 1)[0].decode().lower()
    assert head.startswith("http/1.1 101")
    assert "sec-websocket-extensions" not in head


def test_relayed_events_skip_flask_contexts_and_keep_every_check(
    monkeypatch, app, board_client, tokens, program, open_session
):
    """The relay's hot path: no request context per message, same answers, counted once."""
    from tutoring.extensions import socketio as server
    from tutoring.whiteboard import events

    namespace = server.server.namespace_handlers[events.NAMESPACE]
    tutor, learner = board_client(token=tokens["tutor"]), board_client(token=tokens["learner"])
    for client in (tutor, learner):
        client.call("join", {"session_id": open_session})
    in_context = []
    handle_event = server._handle_event
    monkeypatch.setattr(
        server,
        "_handle_event",
        lambda handler, event, *args: (
            in_context.append(event) or handle_event(handler, event, *args)
        ),
    )
    [connection] = [
        c
        for sid, c in namespace.connections.items()
        if sid == learner.sio.get_sid(events.NAMESPACE)
    ]
    checks = []
    check = connection.guard.check
    monkeypatch.setattr(connection.guard, "check", lambda now: checks.append(now) or check(now))

    for number in range(5):
        learner.emit("stroke:live", stroke_payload("l1", points=[[number, number]]))
    assert learner.call("pointer", {"page": 0, "x": 5, "y": 6}) == {"ok": True}
    relayed = tutor.wait_for("stroke:live", count=5)
    assert [live["points"] for live in relayed] == [[[n, n]] for n in range(5)]
    assert {live["author_id"] for live in relayed} == {program.learner.id}
    assert in_context == []

    # A bad payload is answered in context, with the same words the stored events get.
    checks.clear()
    refused = learner.call("stroke:live", stroke_payload("l2", color="red"))
    assert in_context == ["stroke:live"]
    assert len(checks) == 1  # the guard counted it once
    assert refused == learner.call("stroke", stroke_payload(color="red"))
    assert refused["error"]["field"] == "color"

    # Once the account check is due, it runs (in context) and a disabled account is refused.
    with app.app_context():
        from tutoring.people.models import User

        db.session.get(User, program.learner.id).active = False
        db.session.commit()
    learner.call("pointer", {"page": 0, "x": 1, "y": 1})  # within the recheck interval
    connection.checked_at -= events.RECHECK_SECONDS
    answer = learner.call("pointer", {"page": 0, "x": 1, "y": 1})
    assert answer["error"]["code"] == "unauthorized"
    assert len(tutor.wait_for("pointer", count=2)) == 2  # the one before the check only
