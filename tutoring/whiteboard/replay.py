"""The `join` replay of a board, encoded once per process and extended as the board grows.

A board is an append-only log (items are never changed or removed; the numbers have no
gaps), so the JSON of its items can be kept: a join reads only the items stored after the
last one this process has seen (one query, rows as tuples, the stored JSON text passed
through) and answers text that Socket.IO writes into the message unchanged (`wire.RawJSON`).

The cache only ever holds items read from the database, i.e. committed ones: with several
processes, another process's writes simply make this process's copy a shorter prefix, and
the next join reads the tail. Boards are kept in a least-recently-used list bounded by
characters (`WHITEBOARD_REPLAY_CACHE_BYTES`) and count.

Two encodings (docs/whiteboard.md):
- "contract": every item with seq > since, strokes' points as [[x, y], ...] (CONTRACT.md);
- "compact" (opt-in): points flat [x, y, x, y, ...], and what cannot change the picture is
  left out: strokes and images of a page cleared after them, the erase/restore items of
  those, and all but the latest clear of each page.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from json.encoder import encode_basestring_ascii

from flask import Flask, current_app
from sqlalchemy import String, Text, bindparam, case, cast, or_, select, type_coerce

from tutoring.extensions import db, socketio
from tutoring.whiteboard.models import BoardItem

CONTRACT = "contract"
COMPACT = "compact"
ENCODINGS = (CONTRACT, COMPACT)

DEFAULT_CACHE_BYTES = 64 * 2**20
MAX_BOARDS = 16

_DRAWN = ("stroke", "image")
_TOGGLES = ("erase", "restore")
_POINTS_KEY = '"points":['


def compact_object(text: str) -> str:
    """Return a stored JSON object without the spaces of its separators.

    Items are stored compact (CompactJSON), which this returns as it is; items stored before
    were written by json.dumps with ", " and ": ". When no string in it has a space or an
    escape (a stroke's tool and colour, an image's address) every space is a separator and
    is simply dropped; otherwise (text strokes) it is decoded and re-encoded.
    """
    if " " not in text:
        return text
    # Without a backslash every quote delimits a string: the odd parts are the strings.
    if "\\" not in text and " " not in "".join(text.split('"')[1::2]):
        return text.replace(" ", "")
    return json.dumps(json.loads(text), separators=(",", ":"))


def pairs_object(text: str) -> str:
    """Return a compact stored object with flat `points` turned into [[x, y], ...] pairs."""
    start = text.find(_POINTS_KEY)
    if start < 0:
        return text
    start += len(_POINTS_KEY)
    if text.startswith("[", start) or text.startswith("]", start):
        return text  # already pairs (or empty)
    end = text.index("]", start)
    numbers = iter(text[start:end].split(","))
    # C-level iteration: zip takes two numbers at a time, each pair joined as "x,y".
    pairs = "],[".join(map(",".join, zip(numbers, numbers, strict=False)))
    return f"{text[: start - 1]}[[{pairs}]]{text[end + 1 :]}"


def _array(parts: list[str]) -> str:
    """Return the JSON array of encoded items, copying the megabytes once (parts is changed)."""
    if not parts:
        return "[]"
    parts[0] = "[" + parts[0]
    parts[-1] += "]"
    return ",".join(parts)


@dataclass
class BoardLog:
    """The items of one board this process has read, in seq order (seq n at index n - 1)."""

    session_id: int
    kinds: list[str] = field(default_factory=list)
    pages: list[int] = field(default_factory=list)
    keys: list[str | None] = field(default_factory=list)  # stroke id, or an erase's target
    compact: list[str] = field(default_factory=list)  # item JSON, points flat
    # Item JSON with points as pairs, made when a client first asks (None: not yet).
    contract: list[str | None] = field(default_factory=list)
    # (primary key, created_at) of item 1: a board deleted and made again differs; and the
    # primary key of the last item, which the next read starts from.
    first: tuple | None = None
    last_id: int | None = None
    drawn: dict[str, int] = field(default_factory=dict)  # stroke/image id -> seq
    last_clear: dict[int, int] = field(default_factory=dict)  # page -> seq of latest clear
    whole: dict[str, tuple[int, str]] = field(default_factory=dict)  # encoding -> (last, text)
    size: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def last_seq(self) -> int:
        return len(self.kinds)

    def extend(self, rows) -> bool:
        """Append rows read with seq >= last_seq; False if they do not continue this log.

        Rows are (id, seq, type, author_id, page, key, data, created_at), as _read_statement
        selects them.
        """
        rows = list(rows)
        if self.last_seq:
            if not rows or rows[0].seq != 1 or (rows[0].id, rows[0].created_at) != self.first:
                return False
            if self.last_seq > 1:
                rows = rows[1:]
            if not rows or rows[0].seq != self.last_seq or rows[0].id != self.last_id:
                return False
            rows = rows[1:]
        elif rows and rows[0].seq == 1:
            self.first = (rows[0].id, rows[0].created_at)
        if not rows:
            return True
        # The first join of a big board runs this for every item: columns are taken apart in
        # C (zip), and an item costs one pass of the loop below and no call of our own when
        # it was stored compact (CompactJSON).
        ids, seqs, kinds, authors, pages, keys, datas, _ = zip(*rows, strict=True)
        first = self.last_seq + 1
        if seqs != tuple(range(first, first + len(seqs))):
            return False  # never happens with a gapless log; read it all again
        texts: list[str] = []
        contract: list[str | None] = []
        drawn, last_clear = self.drawn, self.last_clear
        quote = encode_basestring_ascii  # json.dumps of a str, without the call around it
        for seq, kind, author, page, key, data in zip(
            seqs, kinds, authors, pages, keys, datas, strict=True
        ):
            head = (
                f'{{"seq":{seq},"type":"{kind}","author_id":{"null" if author is None else author}'
            )
            if kind in _DRAWN:
                head = f'{head},"id":{"null" if key is None else quote(key)},"page":{page}'
                if data and " " in data:
                    data = compact_object(data)  # stored before storage became compact
                if data and data != "{}":
                    text = f"{head},{data[1:]}"
                    contract.append(None if _POINTS_KEY in data else text)
                else:
                    text = head + "}"
                    contract.append(text)
                if key is not None:
                    drawn.setdefault(key, seq)
            else:
                if kind in _TOGGLES:
                    text = f'{head},"stroke_id":{"null" if key is None else quote(key)},"page":{page}}}'
                else:
                    text = f'{head},"page":{page}}}'
                    if kind == "clear":
                        last_clear[page] = seq
                contract.append(text)
            texts.append(text)
        self.kinds.extend(kinds)
        self.pages.extend(pages)
        self.keys.extend(keys)
        self.compact.extend(texts)
        self.contract.extend(contract)
        self.size += sum(map(len, texts))
        self.last_id = ids[-1]
        self.whole.clear()
        return True

    def _contract_text(self, index: int) -> str:
        text = self.contract[index]
        if text is None:
            # "points":[ can only be the key: a quote inside a string is escaped.
            text = pairs_object(self.compact[index])
            self.contract[index] = text
            self.size += len(text)
        return text

    def _shows(self, index: int) -> bool:
        """Tell whether a compact replay needs the item (see the module's docstring)."""
        kind, page, seq = self.kinds[index], self.pages[index], index + 1
        if kind in _DRAWN:
            return seq > self.last_clear.get(page, 0)
        if kind in _TOGGLES:
            target = self.drawn.get(self.keys[index])
            # An erase or restore carries its stroke's page.
            return target is None or target > self.last_clear.get(page, 0)
        if kind == "clear":
            return self.last_clear.get(page) == seq
        return True

    def encode(self, since: int | None, encoding: str) -> str:
        """Return the JSON array of the items after `since` in an encoding."""
        since = max(0, since or 0)
        if since == 0:
            cached = self.whole.get(encoding)
            if cached is not None and cached[0] == self.last_seq:
                return cached[1]
        start = min(since, self.last_seq)
        if encoding == COMPACT:
            if self.last_clear:
                parts = [self.compact[i] for i in range(start, self.last_seq) if self._shows(i)]
            else:
                parts = self.compact[start:]  # nothing was ever cleared: every item shows
        else:
            parts = [self._contract_text(i) for i in range(start, self.last_seq)]
        text = _array(parts)
        if since == 0:
            old = self.whole.get(encoding)
            self.size += len(text) - (len(old[1]) if old else 0)
            self.whole[encoding] = (self.last_seq, text)
        return text


class ReplayCache:
    """Board logs of one process, least recently used first out."""

    def __init__(self, max_bytes: int = DEFAULT_CACHE_BYTES, max_boards: int = MAX_BOARDS):
        self.max_bytes = max_bytes
        self.max_boards = max_boards
        self.logs: OrderedDict[int, BoardLog] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, session_id: int) -> BoardLog:
        """Return the board's log; a new one is registered at once, empty.

        So a join that arrives while the board is being read (by the warm-up of its room
        page, or another join) waits for that read instead of reading the board again.
        """
        with self.lock:
            log = self.logs.get(session_id)
            if log is None:
                log = self.logs[session_id] = BoardLog(session_id)
            else:
                self.logs.move_to_end(session_id)
            return log

    def keep(self, log: BoardLog) -> None:
        """Remember a log after use; evict the least recently used beyond the bounds."""
        with self.lock:
            self.logs[log.session_id] = log
            self.logs.move_to_end(log.session_id)
            while self.logs and (
                len(self.logs) > self.max_boards
                or sum(each.size for each in self.logs.values()) > self.max_bytes
            ):
                self.logs.popitem(last=False)

    def drop(self, session_id: int) -> None:
        with self.lock:
            self.logs.pop(session_id, None)


def cache() -> ReplayCache:
    """Return this app's replay cache (one per app, so tests with fresh databases never share)."""
    found = current_app.extensions.get("whiteboard_replay")
    if found is None:
        limit = int(current_app.config.get("WHITEBOARD_REPLAY_CACHE_BYTES", DEFAULT_CACHE_BYTES))
        found = current_app.extensions.setdefault("whiteboard_replay", ReplayCache(limit))
    return found


def _read_statement():
    """Return the query of a board's items: item 1 and those with seq >= from_seq, in order.

    Plain rows with only what the log keeps: the stored word of the type (no enum), the
    stroke id of a drawn item or the target of an erase or restore as one key, data as text.
    """
    table = BoardItem.__table__
    kind = type_coerce(table.c.type, String)
    return (
        select(
            table.c.id,
            table.c.seq,
            kind.label("type"),
            table.c.author_id,
            table.c.page,
            case((kind.in_(_DRAWN), table.c.stroke_id), else_=table.c.target_id).label("key"),
            cast(table.c.data, Text).label("data"),
            # Only item 1's time is read: with its id it tells this board from an older one
            # with the same number (see BoardLog.extend). Compared only with itself, it is
            # taken as the driver gives it (no conversion per row to an aware datetime).
            type_coerce(case((table.c.seq == 1, table.c.created_at), else_=None), String).label(
                "created_at"
            ),
        )
        .where(
            table.c.session_id == bindparam("session_id"),
            or_(table.c.seq >= bindparam("from_seq"), table.c.seq == 1),
        )
        .order_by(table.c.seq)
    )


_READ = _read_statement()


def _rows(session_id: int, from_seq: int):
    """Read item 1 and the items with seq >= from_seq (one query)."""
    return db.session.execute(_READ, {"session_id": session_id, "from_seq": from_seq}).all()


def replay(session_id: int, since: int | None, encoding: str = CONTRACT) -> tuple[int, str]:
    """Return the board's last seq and the JSON array of its items after `since`."""
    store = cache()
    log = store.get(session_id)
    with log.lock:  # joins of one board take turns; other boards are not held up
        if not log.extend(_rows(session_id, log.last_seq)):
            # Not a continuation (the board was deleted and made again): read it all.
            fresh = BoardLog(session_id)
            fresh.extend(_rows(session_id, 0))
            log = fresh
        text = log.encode(since, encoding)
        last_seq = log.last_seq
    store.keep(log)
    return last_seq, text


# Warming up: what a first join costs, paid before it arrives.


def _quietly(app: Flask, what: str, work, *args) -> None:
    """Run work(*args) in an app context; a failure is logged (by its kind only), never raised."""
    try:
        with app.app_context():  # its teardown ends the database session
            work(*args)
    except Exception as error:  # the join does the work itself, as without a warm-up
        app.logger.warning("whiteboard warm-up (%s) failed: %s", what, error.__class__.__name__)


def _open_and_compile() -> None:
    from tutoring.auth.service import TOKEN_PREFIX, user_for_token
    from tutoring.people.models import User
    from tutoring.scheduling.models import TutoringSession

    _rows(0, 0)  # ids start at 1: no board is read
    db.session.get(TutoringSession, 0)
    db.session.get(User, 0)  # a browser's connect (its session cookie)
    user_for_token(TOKEN_PREFIX + "warm-up")  # a script's connect: a token nobody holds


def warm_up(app: Flask) -> None:
    """Pay a new server process's one-time costs of a first join; never raises.

    The database pool's first connection, and SQLAlchemy's compilation of the board query
    and of the lookups of a connect and of every event (it keeps them cached), by reading
    what cannot exist: no board is read, no account found. wsgi.py has it run in the
    background when a server starts.
    """
    _quietly(app, "start-up", _open_and_compile)


def warm_board(app: Flask, session_id: int) -> None:
    """Read a board into this process's cache, its compact replay encoded; never raises.

    For the room page: the participant's browser sends `join` once the page has loaded, and
    the join then reads only what was stored meanwhile (or waits for this read to finish).
    """
    _quietly(app, "board", replay, session_id, None, COMPACT)


def warm_board_later(app: Flask, session_id: int) -> None:
    """Start warm_board in the background (a thread, or a greenlet under gevent)."""
    socketio.start_background_task(warm_board, app, session_id)
