"""Warming up before a first join: when a server starts, and when a room page is served."""

from __future__ import annotations

import json
import logging
import time
from contextlib import contextmanager
from datetime import timedelta

import click
import pytest
from sqlalchemy import JSON, Text, cast, delete, event, select, type_coerce, update

from tutoring import create_app, serving
from tutoring.database import utcnow
from tutoring.extensions import db, socketio
from tutoring.whiteboard import replay, service
from tutoring.whiteboard.models import Board, BoardItem
from tutoring.whiteboard.schema import parse_stroke


def stroke(stroke_id: str, **extra):
    payload = {
        "id": stroke_id,
        "page": 0,
        "tool": "pen",
        "color": "#112233",
        "width": 2,
        "points": [[1, 2], [3.25, 4.04]],
    }
    payload.update(extra)
    return parse_stroke(payload)


@pytest.fixture
def open_board(app, program, book) -> int:
    """A session whose room is open, with three strokes (one of them text) on its board."""
    [session_id] = book(utcnow() - timedelta(minutes=5))
    with app.app_context():
        tutor = program.tutor.id
        service.add_stroke(session_id, tutor, stroke("s0"))
        service.add_stroke(session_id, tutor, stroke("t", tool="text", text='a, "b": c\\ 改行'))
        service.add_stroke(session_id, tutor, stroke("s2", pressures=[0.5, 1]))
        db.session.commit()
    return session_id


@pytest.fixture
def started(monkeypatch) -> list:
    """Record the background tasks started (they still run)."""
    calls: list = []
    real = socketio.start_background_task

    def record(target, *args, **kwargs):
        calls.append(target)
        return real(target, *args, **kwargs)

    monkeypatch.setattr(socketio, "start_background_task", record)
    return calls


def wait_until(condition, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


@contextmanager
def statements():
    """Record (SQL, whether SQLAlchemy had it compiled already) of each statement run."""
    seen: list[tuple[str, bool]] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, context.cache_hit == context.dialect.CACHE_HIT))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


# The room page


def test_a_participants_room_page_reads_the_board_once_the_page_has_gone_out(
    app, client, login_as, program, open_board, started
):
    login_as(program.learner)
    response = client.get(f"/sessions/{open_board}/room")
    assert response.status_code == 200
    assert started == []  # nothing competes with the page while it is being sent
    with app.app_context():
        store = replay.cache()
    response.close()  # what the server does once the page has gone out
    assert started == [replay.warm_board]
    assert wait_until(
        lambda: (
            open_board in store.logs
            and store.logs[open_board].last_seq == 3
            and "compact" in store.logs[open_board].whole
        )
    )
    # The join then reads only what was stored since (nothing: one query for no rows), and
    # answers exactly what a first read of the board gives.
    with app.app_context():
        with statements() as seen:
            warmed = service.replay_json(open_board, None, "compact")
        assert len(seen) == 1
        store.drop(open_board)
        assert service.replay_json(open_board, None, "compact") == warmed
    assert [item["id"] for item in json.loads(warmed[1])] == ["s0", "t", "s2"]


def test_a_room_page_refused_or_closed_reads_nothing(
    app, client, login_as, program, open_board, book, started
):
    login_as(program.other_learner)
    refused = client.get(f"/sessions/{open_board}/room")
    assert refused.status_code == 404
    refused.close()
    # The same answer as for a session that does not exist (the page's own address aside):
    # nothing about this one leaks.
    missing = client.get("/sessions/999999/room")
    assert refused.get_data(as_text=True).replace(
        f"/sessions/{open_board}/room", "/sessions/999999/room"
    ) == missing.get_data(as_text=True)
    # A participant before the room opens: the join would be refused, so nothing is read.
    [later] = book(utcnow() + timedelta(days=2))
    login_as(program.learner)
    early = client.get(f"/sessions/{later}/room")
    assert early.status_code == 200
    early.close()
    assert started == []
    with app.app_context():
        assert replay.cache().logs == {}


def test_warming_a_board_never_raises(app, open_board, caplog):
    # Deleted meanwhile (board and items), or never there: an empty replay, no error.
    with app.app_context():
        db.session.execute(delete(BoardItem).where(BoardItem.session_id == open_board))
        db.session.execute(delete(Board).where(Board.session_id == open_board))
        db.session.commit()
    replay.warm_board(app, open_board)
    replay.warm_board(app, 10**9)
    with app.app_context():
        assert service.replay_json(open_board, None, "compact") == (0, "[]")
    # A database that cannot be reached: a warning naming the kind of error, nothing raised.
    broken = create_app(
        {"TESTING": True, "SECRET_KEY": "x", "DATABASE_URL": "sqlite:////nonexistent/x.sqlite3"},
        instance_path=app.instance_path,
    )
    with caplog.at_level(logging.WARNING):
        replay.warm_board(broken, open_board)
        replay.warm_up(broken)
    assert [r.getMessage() for r in caplog.records if "warm-up" in r.getMessage()] == [
        "whiteboard warm-up (board) failed: OperationalError",
        "whiteboard warm-up (start-up) failed: OperationalError",
    ]


# The server's start


def test_the_start_up_warm_up_compiles_the_board_query_and_reads_no_board(app, open_board):
    with app.app_context(), statements() as seen:
        replay.warm_up(app)
        assert replay.cache().logs == {}
    # The board query, two lookups by id (ids that cannot exist) and one by token hash.
    assert len(seen) == 4
    with app.app_context(), statements() as seen:
        assert service.replay_json(open_board, None, "compact")[0] == 3
    assert seen == [(seen[0][0], True)]  # the first join's query was compiled already


def test_only_a_server_process_warms_up():
    assert serving()  # gunicorn imports wsgi.py outside any command
    with click.Context(click.Command("run"), info_name="run"):
        assert serving()  # `flask run`
    for name in ("flask", "upgrade", "demo", "worker"):  # the group, or another command
        with click.Context(click.Command(name), info_name=name):
            assert not serving()


# Stored text


def test_items_are_stored_compact_and_items_stored_before_replay_the_same(app, open_board):
    table = BoardItem.__table__
    stored = select(table.c.id, cast(table.c.data, Text)).order_by(table.c.seq)
    with app.app_context():
        rows = db.session.execute(stored).all()
        assert [json.dumps(json.loads(text), separators=(",", ":")) for _, text in rows] == [
            text for _, text in rows
        ]
        before = {e: service.replay_json(open_board, None, e) for e in replay.ENCODINGS}
        # As items were stored before: json.dumps with its spaces after "," and ":".
        for item_id, text in rows:
            db.session.execute(
                update(table)
                .where(table.c.id == item_id)
                .values(data=type_coerce(json.loads(text), JSON))
            )
        db.session.commit()
        assert all(", " in text for _, text in db.session.execute(stored))
        replay.cache().drop(open_board)
        assert {e: service.replay_json(open_board, None, e) for e in replay.ENCODINGS} == before
