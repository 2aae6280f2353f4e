"""The board store: items appended with a per-board sequence number, replayed in order."""

from __future__ import annotations

import functools
import hashlib
import json
import uuid
from pathlib import Path

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from tutoring.database import utcnow
from tutoring.extensions import db
from tutoring.people.models import Role, User
from tutoring.scheduling.models import TutoringSession
from tutoring.validation import ValidationError
from tutoring.whiteboard.images import fit_on_page
from tutoring.whiteboard.models import Board, BoardItem, BoardSnapshot, ItemType
from tutoring.whiteboard.replay import CONTRACT, replay
from tutoring.whiteboard.schema import Stroke, encode_points, point_pairs

_boards = Board.__table__
_items = BoardItem.__table__
# The statements of every stroke, built once (Core, bound parameters): building them and the
# ORM's handling were a third of a stroke's cost.
_TAKE_NUMBER = (
    update(_boards)
    .where(_boards.c.session_id == bindparam("board"))
    .values(last_seq=_boards.c.last_seq + 1)
    .returning(_boards.c.last_seq)
)
_GIVE_NUMBER_BACK = (
    update(_boards)
    .where(_boards.c.session_id == bindparam("board"))
    .values(last_seq=_boards.c.last_seq - 1)
)


def _insert_statement():
    """Return the database's INSERT construct (both have ON CONFLICT DO NOTHING)."""
    return sqlite_insert if db.session.get_bind().dialect.name == "sqlite" else postgresql_insert


@functools.cache
def _insert_new_stroke(insert) -> object:
    """Return INSERT of an item unless its client id is on the board, answering its seq."""
    return (
        insert(_items)
        .on_conflict_do_nothing(index_elements=[_items.c.session_id, _items.c.stroke_id])
        .returning(_items.c.seq)
    )


def _next_seq(session_id: int) -> int:
    """Take the board's next number inside the current transaction (no gaps, no duplicates).

    The UPDATE comes first, so the transaction starts by writing: it locks the board row
    until commit on PostgreSQL, and on SQLite it waits for the write lock (busy_timeout)
    instead of failing to upgrade a read transaction when another board was written meanwhile.
    """
    seq = db.session.execute(_TAKE_NUMBER, {"board": session_id}).scalar_one_or_none()
    if seq is None:  # the board's first item: create it (another sender may race us to it)
        db.session.execute(
            _insert_statement()(Board)
            .values(session_id=session_id, last_seq=0)
            .on_conflict_do_nothing()
        )
        seq = db.session.execute(_TAKE_NUMBER, {"board": session_id}).scalar_one()
    return seq


def _append(session: TutoringSession, author: User, item_type: ItemType, **fields) -> BoardItem:
    item = BoardItem(
        session_id=session.id,
        seq=_next_seq(session.id),
        type=item_type,
        author_id=author.id,
        **fields,
    )
    db.session.add(item)
    db.session.flush()
    return item


def item_json(item: BoardItem) -> dict:
    """Return an item as CONTRACT.md has it broadcast: {seq, type, author_id, ...}.

    Points are stored flat; here they are [[x, y], ...] pairs, as every client expects.
    """
    if item.type in (ItemType.STROKE, ItemType.IMAGE):
        return _drawn_json(
            item.seq, item.type, item.author_id, item.stroke_id, item.page, item.data
        )
    body = {"seq": item.seq, "type": item.type.value, "author_id": item.author_id}
    if item.type in (ItemType.ERASE, ItemType.RESTORE):
        body.update(stroke_id=item.target_id, page=item.page)
    else:
        body.update(page=item.page)
    return body


def _drawn_json(
    seq: int, item_type: ItemType, author_id: int | None, client_id: str, page: int, data: dict
) -> dict:
    """Return a stroke or image as item_json has it, from its stored fields."""
    body = {"seq": seq, "type": item_type.value, "author_id": author_id, "id": client_id}
    body.update(page=page, **data)
    if "points" in body:
        body["points"] = point_pairs(body["points"])
    return body


def find_stroke(session_id: int, stroke_id: str) -> BoardItem | None:
    """Return the stroke (or image) with this client id on the board."""
    return db.session.scalar(
        select(BoardItem).where(
            BoardItem.session_id == session_id, BoardItem.stroke_id == stroke_id
        )
    )


def add_stroke(session_id: int, author_id: int, stroke: Stroke) -> tuple[dict, bool]:
    """Store a finished stroke; return it as item_json has it and True.

    A stroke id already on the board returns that item and False, storing nothing. This is
    the whiteboard's busiest write (one per stroke drawn), so it takes ids rather than
    loaded rows and writes two statements: the board's next number, then the item unless
    its id is taken. A taken id (a retry) gives the number back, which is safe because the
    first statement holds the board's row until commit: nobody took a later one.
    """
    data = {
        "tool": stroke.tool,
        "color": stroke.color,
        "width": stroke.width,
        "points": encode_points(stroke.points),
    }
    if stroke.text is not None:
        data["text"] = stroke.text
    if stroke.pressures is not None:
        data["pressures"] = [round(p, 3) for p in stroke.pressures]
    seq = _next_seq(session_id)
    stored = db.session.execute(
        _insert_new_stroke(_insert_statement()),
        {
            "session_id": session_id,
            "seq": seq,
            "type": ItemType.STROKE,
            "author_id": author_id,
            "page": stroke.page,
            "stroke_id": stroke.id,
            "data": data,
            "created_at": utcnow(),
        },
    ).scalar_one_or_none()
    if stored is None:
        db.session.execute(_GIVE_NUMBER_BACK, {"board": session_id})
        return item_json(find_stroke(session_id, stroke.id)), False
    return _drawn_json(seq, ItemType.STROKE, author_id, stroke.id, stroke.page, data), True


def _visible(session_id: int, stroke: BoardItem) -> bool:
    """Tell whether a stroke is shown now: not erased since its last restore, nor cleared."""
    later = db.session.scalars(
        select(BoardItem)
        .where(
            BoardItem.session_id == session_id,
            BoardItem.seq > stroke.seq,
            (BoardItem.target_id == stroke.stroke_id)
            | ((BoardItem.type == ItemType.CLEAR) & (BoardItem.page == stroke.page)),
        )
        .order_by(BoardItem.seq)
    ).all()
    shown = True
    for item in later:
        if item.type is ItemType.CLEAR:
            return False
        shown = item.type is ItemType.RESTORE
    return shown


def toggle_stroke(
    session: TutoringSession, author: User, stroke_id: str, *, show: bool
) -> BoardItem:
    """Undo (hide) or redo (show) one of the author's own strokes."""
    stroke = find_stroke(session.id, stroke_id)
    if stroke is None or stroke.author_id != author.id:
        raise ValidationError("stroke_id", _l("No such stroke of yours on this board."))
    if _visible(session.id, stroke) == show:
        message = (
            _l("The stroke is already shown.") if show else _l("The stroke is already hidden.")
        )
        raise ValidationError("stroke_id", message, code="conflict")
    item_type = ItemType.RESTORE if show else ItemType.ERASE
    return _append(session, author, item_type, page=stroke.page, target_id=stroke_id)


def may_clear(actor: User, session: TutoringSession) -> bool:
    """Tell whether the actor may clear a page: the session's tutor and coordinators, not learners."""
    return actor.id == session.tutor_id or actor.role in (Role.COORDINATOR, Role.ADMIN)


def clear_page(session: TutoringSession, author: User, page: int) -> BoardItem:
    """Hide everything drawn on a page so far."""
    if not may_clear(author, session):
        raise ValidationError("page", _l("Only the tutor can clear a page."), code="forbidden")
    return _append(session, author, ItemType.CLEAR, page=page)


def items_since(session_id: int, since: int | None) -> tuple[int, list[dict]]:
    """Return the board's last seq and every item after `since`, in order, as item_json has them."""
    last_seq, text = replay(session_id, since, CONTRACT)
    return last_seq, json.loads(text)


def replay_json(session_id: int, since: int | None, encoding: str) -> tuple[int, str]:
    """Return the board's last seq and its items after `since` as one JSON array (text).

    `encoding` is "contract" (every item, points as pairs) or "compact" (points flat, and
    what a clear made invisible left out); see replay.py. The text comes from a per-process
    cache that a join extends by the items stored since the previous one.
    """
    return replay(session_id, since, encoding)


# Pictures: photos placed on a page, and snapshots of pages. The files live under
# storage_root(); the rows say where and who. The view re-encodes and stores the file first.


def storage_root() -> Path:
    """Return the folder of the boards' pictures: instance/whiteboard/."""
    return Path(current_app.instance_path) / "whiteboard"


def picture_src(session_id: int, stored_name: str) -> str:
    """Return the address the participants' browsers load a stored picture from."""
    return url_for("whiteboard.image", session_id=session_id, name=stored_name)


def add_image(
    session: TutoringSession,
    author: User,
    *,
    page: int,
    client_id: str | None,
    stored_name: str,
    width: int,
    height: int,
) -> tuple[BoardItem, bool]:
    """Place a stored picture on a page, centred and as large as fits.

    A client id already on the board returns that item and False (a retried upload); the
    caller then deletes the file it stored. An id used by a stroke is a conflict. Without
    a client id the image gets a new one, so it can be undone like a stroke.
    """
    if client_id is None:
        client_id = uuid.uuid4().hex
    existing = find_image(session.id, client_id)
    if existing is not None:
        return existing, False
    x, y, w, h = fit_on_page(width, height)
    data = {"src": picture_src(session.id, stored_name), "x": x, "y": y, "w": w, "h": h}
    try:
        with db.session.begin_nested():
            item = _append(
                session, author, ItemType.IMAGE, page=page, stroke_id=client_id, data=data
            )
    except IntegrityError:
        # The same upload retried while the first was still being stored: keep the first.
        existing = find_image(session.id, client_id)
        if existing is None:
            raise
        return existing, False
    return item, True


def find_image(session_id: int, client_id: str) -> BoardItem | None:
    """Return the image with this client id on the board; ValidationError if a stroke has it."""
    item = find_stroke(session_id, client_id)
    if item is not None and item.type is not ItemType.IMAGE:
        raise ValidationError("id", _l("This id is already used on this board."), code="conflict")
    return item


def add_snapshot(
    session: TutoringSession,
    author: User,
    *,
    page: int,
    stored_name: str,
    width: int,
    height: int,
) -> BoardSnapshot:
    """Record a stored PNG of a page, for the session's study notes."""
    snapshot = BoardSnapshot(
        session_id=session.id,
        page=page,
        author_id=author.id,
        stored_name=stored_name,
        width=width,
        height=height,
    )
    db.session.add(snapshot)
    db.session.flush()
    return snapshot


def snapshots(session_id: int) -> list[BoardSnapshot]:
    """Return the session's snapshots, oldest first."""
    return list(
        db.session.scalars(
            select(BoardSnapshot)
            .where(BoardSnapshot.session_id == session_id)
            .order_by(BoardSnapshot.created_at, BoardSnapshot.id)
        )
    )


def snapshot_json(snapshot: BoardSnapshot) -> dict:
    """Return a snapshot as the API lists it."""
    return {
        "id": snapshot.id,
        "session_id": snapshot.session_id,
        "page": snapshot.page,
        "author_id": snapshot.author_id,
        "src": picture_src(snapshot.session_id, snapshot.stored_name),
        "width": snapshot.width,
        "height": snapshot.height,
        "created_at": snapshot.created_at.isoformat(),
    }


# Earlier boards: read only, and a page copied into this session's board


def may_view(actor: User, session: TutoringSession) -> bool:
    """Tell whether the actor may read a session's board at any time (as they may see the session)."""
    from tutoring.scheduling.service import visible_session

    return visible_session(actor, session.id) is not None


def earlier_boards(
    actor: User, learner_id: int, before: TutoringSession | None = None
) -> list[dict]:
    """Return the learner's earlier sessions that have a board, newest first."""
    from tutoring.scheduling.service import list_sessions

    sessions = [
        s
        for s in list_sessions(
            actor, learner_id=learner_id, end=before.starts_at if before else None
        )
        if before is None or s.id != before.id
    ]
    boards = {
        board.session_id: board.last_seq
        for board in db.session.scalars(
            select(Board).where(Board.session_id.in_([s.id for s in sessions]))
        )
        if board.last_seq > 0
    }
    pages = dict(
        db.session.execute(
            select(BoardItem.session_id, func.max(BoardItem.page))
            .where(BoardItem.session_id.in_(list(boards)))
            .group_by(BoardItem.session_id)
        ).all()
    )
    return [
        {"session": s, "items": boards[s.id], "pages": pages.get(s.id, 0) + 1}
        for s in reversed(sessions)
        if s.id in boards
    ]


def _shown_on_page(session_id: int, page: int) -> list[BoardItem]:
    """Return the strokes and pictures a page shows now, in drawing order."""
    shown: dict[str, BoardItem] = {}
    hidden: set[str] = set()
    for item in db.session.scalars(
        select(BoardItem).where(BoardItem.session_id == session_id).order_by(BoardItem.seq)
    ):
        if item.type in (ItemType.STROKE, ItemType.IMAGE) and item.page == page:
            shown[item.stroke_id] = item
            hidden.discard(item.stroke_id)
        elif item.type is ItemType.ERASE:
            hidden.add(item.target_id)
        elif item.type is ItemType.RESTORE:
            hidden.discard(item.target_id)
        elif item.type is ItemType.CLEAR and item.page == page:
            shown.clear()
    return [item for key, item in shown.items() if key not in hidden]


def copy_page(
    actor: User, source: TutoringSession, page: int, target: TutoringSession, to_page: int
) -> list[BoardItem]:
    """Copy what a page of an earlier board shows onto a page of this session's board.

    Copies get ids derived from source, page and target, so copying twice adds nothing.
    """
    if source.learner_id != target.learner_id or source.id == target.id:
        raise ValidationError(
            "from_session_id", _l("Choose an earlier session of the same learner.")
        )
    copied = []
    for item in _shown_on_page(source.id, page):
        digest = hashlib.sha256(
            f"{source.id}:{item.stroke_id}:{target.id}:{to_page}".encode()
        ).hexdigest()
        new_id = "copy-" + digest[:32]
        if find_stroke(target.id, new_id) is not None:
            continue
        copied.append(
            _append(target, actor, item.type, page=to_page, stroke_id=new_id, data=dict(item.data))
        )
    return copied
