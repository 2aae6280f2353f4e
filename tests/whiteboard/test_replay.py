"""The join replay: its two encodings, the per-process cache, and the compact replay's pruning."""

from __future__ import annotations

import json
import random
from collections import namedtuple
from contextlib import contextmanager
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, event

from tutoring.database import utcnow
from tutoring.extensions import db
from tutoring.people.models import User
from tutoring.scheduling.models import TutoringSession
from tutoring.whiteboard import replay, service, wire
from tutoring.whiteboard.models import Board, BoardItem
from tutoring.whiteboard.schema import parse_stroke


def stroke(stroke_id: str, page: int = 0, **extra) -> object:
    payload = {
        "id": stroke_id,
        "page": page,
        "tool": "pen",
        "color": "#112233",
        "width": 2,
        "points": [[1, 2], [3.25, 4.04], [-5, 6.5]],
    }
    payload.update(extra)
    return parse_stroke(payload)


@pytest.fixture
def board(app, program, book):
    [session_id] = book(utcnow() - timedelta(minutes=5))
    ctx = app.test_request_context()  # images need url_for
    ctx.push()
    yield (
        db.session.get(TutoringSession, session_id),
        db.session.get(User, program.tutor.id),
        db.session.get(User, program.learner.id),
    )
    db.session.rollback()
    ctx.pop()


@contextmanager
def counted_queries():
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", count)


def orm_items(session_id: int) -> list[dict]:
    """What the replay must equal: every item through item_json, the ORM way."""
    items = db.session.scalars(
        db.select(BoardItem).where(BoardItem.session_id == session_id).order_by(BoardItem.seq)
    ).all()
    return [service.item_json(item) for item in items]


def a_bit_of_everything(session, tutor, learner) -> None:
    service.add_stroke(session.id, tutor.id, stroke("a"))
    service.add_stroke(
        session.id, learner.id, stroke("t", page=1, tool="text", text='Ｘ, "y": 2 \\ 改行\nあ')
    )
    service.add_stroke(session.id, learner.id, stroke("p", pressures=[0.5, 0.25, 1]))
    service.toggle_stroke(session, learner, "p", show=False)
    service.toggle_stroke(session, learner, "p", show=True)
    service.add_image(
        session, tutor, page=1, client_id="img", stored_name="x" * 22 + ".jpg", width=40, height=20
    )
    service.clear_page(session, tutor, 3)
    db.session.commit()


# The contract encoding: exactly what item_json gives, points as pairs.


def test_contract_replay_is_item_json_of_every_item(board):
    session, tutor, learner = board
    a_bit_of_everything(session, tutor, learner)
    last_seq, text = service.replay_json(session.id, None, "contract")
    assert last_seq == 7
    assert json.loads(text) == orm_items(session.id)
    assert json.loads(text)[0]["points"] == [[1, 2], [3.2, 4], [-5, 6.5]]
    assert json.loads(text)[1]["text"] == 'Ｘ, "y": 2 \\ 改行\nあ'  # kept exactly
    # Without an author any more (account deleted) the item still replays.
    db.session.execute(db.update(BoardItem).values(author_id=None).where(BoardItem.seq == 1))
    db.session.commit()
    replay.cache().drop(session.id)
    assert json.loads(service.replay_json(session.id, None, "contract")[1])[0]["author_id"] is None


def test_compact_replay_has_flat_points_and_the_same_fields(board):
    session, tutor, learner = board
    a_bit_of_everything(session, tutor, learner)
    contract = json.loads(service.replay_json(session.id, None, "contract")[1])
    compact = json.loads(service.replay_json(session.id, None, "compact")[1])
    assert compact[0]["points"] == [1, 2, 3.2, 4, -5, 6.5]
    flat_again = [
        {**item, "points": [n for pair in item["points"] for n in pair]}
        if "points" in item
        else item
        for item in contract
    ]
    assert compact == flat_again  # nothing cleared on this board: every item, same fields
    assert all(" " not in t for t in service.replay_json(session.id, None, "compact")[1][:200])


def test_replay_since_and_the_cache_follow_the_growing_board(board):
    session, tutor, _ = board
    for n in range(3):
        service.add_stroke(session.id, tutor.id, stroke(f"s{n}"))
    db.session.commit()
    session_id = session.id  # loaded again after the commit, outside the count
    with counted_queries() as queries:
        assert service.replay_json(session_id, None, "compact")[0] == 3
    assert len(queries) == 1  # one query, nothing else
    service.add_stroke(session.id, tutor.id, stroke("s3"))
    service.clear_page(session, tutor, 0)
    db.session.commit()
    session_id = session.id
    with counted_queries() as queries:
        last_seq, text = service.replay_json(session_id, 3, "contract")
    assert len(queries) == 1
    assert last_seq == 5
    assert [i["seq"] for i in json.loads(text)] == [4, 5]
    assert service.replay_json(session.id, 5, "contract") == (5, "[]")
    assert service.replay_json(session.id, 9, "contract") == (5, "[]")
    # What the cache read in steps equals a fresh read of the whole board.
    stepwise = {e: service.replay_json(session.id, 0, e) for e in replay.ENCODINGS}
    replay.cache().drop(session.id)
    assert {e: service.replay_json(session.id, 0, e) for e in replay.ENCODINGS} == stepwise


def test_a_board_made_again_under_the_same_number_is_read_afresh(board):
    session, tutor, learner = board
    for n in range(3):
        service.add_stroke(session.id, tutor.id, stroke(f"old{n}"))
    db.session.commit()
    assert len(json.loads(service.replay_json(session.id, None, "contract")[1])) == 3
    db.session.execute(delete(BoardItem).where(BoardItem.session_id == session.id))
    db.session.execute(delete(Board).where(Board.session_id == session.id))
    db.session.commit()
    for n in range(4):
        service.add_stroke(session.id, learner.id, stroke(f"new{n}"))
    db.session.commit()
    last_seq, text = service.replay_json(session.id, None, "contract")
    assert last_seq == 4
    assert [i["id"] for i in json.loads(text)] == ["new0", "new1", "new2", "new3"]


def test_the_cache_is_bounded_least_recently_used_first_out():
    cache = replay.ReplayCache(max_bytes=1000, max_boards=2)
    logs = [replay.BoardLog(n) for n in range(3)]
    for log in logs:
        log.size = 300
        cache.keep(log)
    assert list(cache.logs) == [1, 2]  # two boards at most
    cache.get(1)  # used: now the most recent
    big = replay.BoardLog(9)
    big.size = 600
    cache.keep(big)
    assert list(cache.logs) == [1, 9]  # two at most: the least recently used (2) went
    huge = replay.BoardLog(10)
    huge.size = 5000
    cache.keep(huge)
    assert list(cache.logs) == []  # larger than the whole cache: served, not kept


def test_stored_text_is_made_compact_safely():
    assert replay.compact_object('{"tool": "pen", "points": [1, 2.5]}') == (
        '{"tool":"pen","points":[1,2.5]}'
    )
    # Spaces and escapes inside strings are kept.
    text = json.dumps({"text": 'a, "b": c\\', "points": [1, 2]})
    assert json.loads(replay.compact_object(text)) == json.loads(text)
    assert replay.pairs_object('{"points":[1,2.5,-3,4]}') == '{"points":[[1,2.5],[-3,4]]}'
    assert replay.pairs_object('{"points":[[1,2]]}') == '{"points":[[1,2]]}'  # already pairs
    assert replay.pairs_object('{"src":"/x"}') == '{"src":"/x"}'
    assert replay.pairs_object('{"points":[1,2],"pressures":[0.5]}') == (
        '{"points":[[1,2]],"pressures":[0.5]}'
    )


def test_wire_writes_raw_json_into_the_message():
    message = {"ok": True, "items": wire.RawJSON('[{"seq":1}]'), "text": "\x00raw:0\x00"}
    encoded = wire.dumps([message], separators=(",", ":"))
    assert encoded == '[{"ok":true,"items":[{"seq":1}],"text":"\\u0000raw:0\\u0000"}]'
    assert wire.loads(encoded)[0]["items"] == [{"seq": 1}]
    assert wire.dumps({"a": 1}) == json.dumps({"a": 1})
    with pytest.raises(TypeError):
        wire.dumps({"a": object()})


# The compact replay leaves out what cannot change the picture. Checked against a model of
# what a client shows (board.js): for random boards, a client that had every item up to
# `since` and then got the compact replay, and then the items stored after its join,
# shows exactly what a client given every item shows.

Row = namedtuple("Row", "id seq type author_id page key data created_at")  # as replay reads them


def picture(items) -> dict[int, list[str]]:
    drawn, toggles, clears = {}, {}, {}
    for item in items:
        if item["type"] in ("stroke", "image"):
            if item["id"] not in drawn or drawn[item["id"]]["seq"] > item["seq"]:
                drawn[item["id"]] = item
        elif item["type"] in ("erase", "restore"):
            known = toggles.get(item["stroke_id"])
            if known is None or known["seq"] < item["seq"]:
                toggles[item["stroke_id"]] = item
        elif item["type"] == "clear":
            clears[item["page"]] = max(clears.get(item["page"], 0), item["seq"])
    shown: dict[int, list[str]] = {}
    for key, item in sorted(drawn.items(), key=lambda kv: kv[1]["seq"]):
        erased = toggles.get(key, {}).get("type") == "erase"
        if item["seq"] > clears.get(item["page"], 0) and not erased:
            shown.setdefault(item["page"], []).append(key)
    return shown


def random_log(rng: random.Random, count: int) -> list[Row]:
    """Items as the service would store them: undo/redo only of shown/hidden own strokes."""
    rows, strokes, hidden = [], {}, set()
    for seq in range(1, count + 1):
        roll = rng.random()
        if roll < 0.5 or not strokes:
            key, page = f"s{seq}", rng.randrange(3)
            strokes[key] = (seq, page)
            data = json.dumps({"tool": "pen", "points": [seq, 1.5]})
            rows.append(Row(seq, seq, "stroke", 1, page, key, data, None))
        elif roll < 0.8:
            key = rng.choice(sorted(strokes))
            kind = "restore" if key in hidden else "erase"
            hidden.symmetric_difference_update({key})
            rows.append(Row(seq, seq, kind, 1, strokes[key][1], key, "{}", None))
        else:
            rows.append(Row(seq, seq, "clear", 1, rng.randrange(3), None, "{}", None))
    return rows


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 2**32), st.integers(1, 60), st.data())
def test_compact_replay_shows_what_the_whole_log_shows(seed, count, data):
    rows = random_log(random.Random(seed), count)
    joined_at = data.draw(st.integers(1, count))
    since = data.draw(st.integers(0, joined_at))
    log = replay.BoardLog(1)
    assert log.extend(rows[:joined_at])
    every = json.loads(log.encode(0, replay.CONTRACT))
    compact = json.loads(log.encode(since, replay.COMPACT))
    whole = replay.BoardLog(1)
    assert whole.extend(rows)
    everything = json.loads(whole.encode(0, replay.CONTRACT))
    # Before the join the client had every item up to `since`; after it, the broadcasts.
    after_join = [item for item in everything if item["seq"] > joined_at]
    client = every[:since] + compact + after_join
    assert picture(client) == picture(everything)
    # The compact replay is ordered and never longer than the contract one.
    assert [i["seq"] for i in compact] == sorted(i["seq"] for i in compact)
    assert len(compact) <= len(every) - since


def test_compact_replay_leaves_out_strokes_cleared_and_their_undos(board):
    session, tutor, learner = board
    service.add_stroke(session.id, learner.id, stroke("gone"))  # 1
    service.toggle_stroke(session, learner, "gone", show=False)  # 2
    service.add_stroke(session.id, learner.id, stroke("other-page", page=1))  # 3
    service.clear_page(session, tutor, 0)  # 4
    service.add_stroke(session.id, learner.id, stroke("after"))  # 5
    service.clear_page(session, tutor, 2)  # 6
    service.clear_page(session, tutor, 2)  # 7
    db.session.commit()
    compact = json.loads(service.replay_json(session.id, None, "compact")[1])
    assert [i["seq"] for i in compact] == [3, 4, 5, 7]
    assert service.replay_json(session.id, None, "compact")[0] == 7
    # A redo of a cleared stroke is stored (it changes nothing) and left out as well.
    service.toggle_stroke(session, learner, "gone", show=True)  # 8
    db.session.commit()
    assert [i["seq"] for i in json.loads(service.replay_json(session.id, 4, "compact")[1])] == [
        5,
        7,
    ]
    assert len(json.loads(service.replay_json(session.id, None, "contract")[1])) == 8
