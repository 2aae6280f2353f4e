"""The board store: ordering, idempotent stroke ids, replay since, erase/restore/clear."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tutoring.database import utcnow
from tutoring.extensions import db
from tutoring.people.models import User
from tutoring.scheduling.models import TutoringSession
from tutoring.validation import ValidationError
from tutoring.whiteboard import service
from tutoring.whiteboard.models import BoardItem
from tutoring.whiteboard.schema import parse_stroke


def stroke(stroke_id: str, page: int = 0, points=((1, 2), (3.25, 4.04))) -> object:
    return parse_stroke(
        {
            "id": stroke_id,
            "page": page,
            "tool": "pen",
            "color": "#112233",
            "width": 2,
            "points": [list(p) for p in points],
        }
    )


@pytest.fixture
def board(app, program, book):
    [session_id] = book(utcnow() - timedelta(minutes=5))
    ctx = app.app_context()
    ctx.push()
    yield (
        db.session.get(TutoringSession, session_id),
        db.session.get(User, program.tutor.id),
        db.session.get(User, program.learner.id),
    )
    db.session.rollback()
    ctx.pop()


def test_items_get_consecutive_numbers_in_order(board):
    session, tutor, learner = board
    seqs = [
        service.add_stroke(session.id, author.id, stroke(f"s{n}"))[0]["seq"]
        for n, author in enumerate([tutor, learner, tutor])
    ]
    db.session.commit()
    assert seqs == [1, 2, 3]
    last, items = service.items_since(session.id, None)
    assert last == 3
    assert [(i["seq"], i["id"], i["author_id"]) for i in items] == [
        (1, "s0", tutor.id),
        (2, "s1", learner.id),
        (3, "s2", tutor.id),
    ]


def test_a_resent_stroke_id_returns_its_first_seq_and_stores_nothing(board):
    session, tutor, _ = board
    first, created = service.add_stroke(session.id, tutor.id, stroke("abc"))
    again, created_again = service.add_stroke(session.id, tutor.id, stroke("abc", points=((9, 9),)))
    db.session.commit()
    assert (created, created_again) == (True, False)
    assert again == first  # the stored stroke, not the resent points
    assert db.session.query(BoardItem).count() == 1
    # The number the retry took was given back: the next stroke follows without a gap.
    assert service.add_stroke(session.id, tutor.id, stroke("next"))[0]["seq"] == first["seq"] + 1
    db.session.commit()
    assert [i["seq"] for i in service.items_since(session.id, None)[1]] == [1, 2]


def test_replay_since_returns_exactly_the_later_items(board):
    session, tutor, _ = board
    for n in range(5):
        service.add_stroke(session.id, tutor.id, stroke(f"s{n}"))
    db.session.commit()
    last, items = service.items_since(session.id, 3)
    assert last == 5
    assert [i["seq"] for i in items] == [4, 5]
    assert service.items_since(session.id, 5) == (5, [])


def test_points_are_replayed_as_pairs_rounded(board):
    session, tutor, _ = board
    service.add_stroke(session.id, tutor.id, stroke("p", points=((1, 2), (3.25, 4.04))))
    db.session.commit()
    item = service.items_since(session.id, 0)[1][0]
    assert item["points"] == [[1, 2], [3.2, 4]]  # CONTRACT.md's pairs, at 0.1 units
    assert (item["tool"], item["color"], item["width"], item["page"]) == ("pen", "#112233", 2.0, 0)


def test_undo_and_redo_of_ones_own_stroke(board):
    session, tutor, learner = board
    service.add_stroke(session.id, learner.id, stroke("mine"))
    erase = service.toggle_stroke(session, learner, "mine", show=False)
    with pytest.raises(ValidationError):
        service.toggle_stroke(session, learner, "mine", show=False)  # already hidden
    restore = service.toggle_stroke(session, learner, "mine", show=True)
    db.session.commit()
    assert (erase.seq, restore.seq) == (2, 3)
    items = service.items_since(session.id, 1)[1]
    assert [(i["type"], i["stroke_id"]) for i in items] == [("erase", "mine"), ("restore", "mine")]


def test_nobody_undoes_anothers_stroke(board):
    session, tutor, learner = board
    service.add_stroke(session.id, tutor.id, stroke("tutors"))
    with pytest.raises(ValidationError) as error:
        service.toggle_stroke(session, learner, "tutors", show=False)
    assert error.value.field == "stroke_id"
    with pytest.raises(ValidationError):
        service.toggle_stroke(session, learner, "never-drawn", show=False)


def test_clear_hides_the_page_and_only_the_tutor_may(board):
    session, tutor, learner = board
    service.add_stroke(session.id, learner.id, stroke("a", page=0))
    service.add_stroke(session.id, learner.id, stroke("b", page=1))
    with pytest.raises(ValidationError) as error:
        service.clear_page(session, learner, 0)
    assert error.value.code == "forbidden"
    clear = service.clear_page(session, tutor, 0)
    db.session.commit()
    assert clear.seq == 3
    assert service.items_since(session.id, 2)[1] == [
        {"seq": 3, "type": "clear", "author_id": tutor.id, "page": 0}
    ]
    with pytest.raises(ValidationError):
        service.toggle_stroke(session, learner, "a", show=False)  # cleared: nothing to undo
    assert service.toggle_stroke(session, learner, "b", show=False).seq == 4  # other page untouched


def test_an_empty_board_replays_nothing(board):
    session, _, _ = board
    assert service.items_since(session.id, None) == (0, [])


def test_concurrent_senders_get_numbers_without_gaps_and_a_raced_retry_is_stored_once(
    app, program, book
):
    """Four writers at once, each on its own connection; every id is sent twice at once."""
    import threading

    [session_id] = book(utcnow() - timedelta(minutes=5))
    authors = [program.tutor.id, program.learner.id]
    start = threading.Barrier(4)
    answers: dict[str, list[int]] = {}
    failures: list[BaseException] = []

    def send(writer: int) -> None:
        with app.app_context():
            try:
                start.wait(timeout=10)
                for n in range(15):
                    # Writers 0/1 and 2/3 send the same ids: a retry racing its original.
                    stroke_id = f"w{writer // 2}-{n}"
                    body, _created = service.add_stroke(
                        session_id, authors[writer % 2], stroke(stroke_id)
                    )
                    db.session.commit()
                    answers.setdefault(stroke_id, []).append(body["seq"])
            except BaseException as error:  # noqa: BLE001  (reported by the test below)
                failures.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=send, args=(writer,)) for writer in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == []
    with app.app_context():
        last, items = service.items_since(session_id, None)
    assert [item["seq"] for item in items] == list(range(1, 31))  # no gap, no duplicate
    assert last == 30
    stored = {item["id"]: item["seq"] for item in items}
    assert sorted(stored) == sorted(answers)
    # Both senders of an id were told the one number it was stored under.
    assert {stroke_id: set(seqs) for stroke_id, seqs in answers.items()} == {
        stroke_id: {seq} for stroke_id, seq in stored.items()
    }
