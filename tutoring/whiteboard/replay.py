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
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from flask import current_app
from sqlalchemy import String, Text, case, cast, or_, select, type_coerce

from tutoring.extensions import db
from tutoring.whiteboard.models import BoardItem

CONTRACT = "contract"
COMPACT = "compact"
ENCODINGS = (CONTRACT, COMPACT)

DEFAULT_CACHE_BYTES = 64 * 2**20
MAX_BOARDS = 16

_DRAWN = ("stroke", "image")
_TOGGLES = ("erase", "restore")
_POINTS_KEY = '"points":['
_PLAIN = re.compile(r"[A-Za-z0-9_.:-]*")


def compact_object(text: str) -> str:
    """Return a stored JSON object without the spaces of its separators.

    Stored data is written by json.dumps with ", " and ": ". When no string in it has a
    space or an escape (a stroke's tool and colour, an image's address) every space is a
    separator and is simply dropped; otherwise (text strokes) it is decoded and re-encoded.
    """
    if " " not in text:
        return text
    if "\\" not in text and not any(" " in part for part in text.split('"')[1::2]):
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


def _string(value: str | None) -> str:
    """Return a JSON string (ids are mostly UUIDs, which need no escaping)."""
    if value is not None and _PLAIN.fullmatch(value):
        return f'"{value}"'
    return json.dumps(value)


def _item_json(seq: int, kind: str, author_id, page: int, key, body: str | None) -> str:
    """Return one item's JSON as item_json() shapes it: {seq, type, author_id, ...}."""
    head = f'{{"seq":{seq},"type":"{kind}","author_id":{"null" if author_id is None else author_id}'
    if kind in _DRAWN:
        fields = body[1:] if body and body != "{}" else "}"
        separator = "," if fields != "}" else ""
        return f'{head},"id":{_string(key)},"page":{page}{separator}{fields}'
    if kind in _TOGGLES:
        return f'{head},"stroke_id":{_string(key)},"page":{page}}}'
    return f'{head},"page":{page}}}'


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
        """Append rows read with seq >= last_seq; False if they do not continue this log."""
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
        # The hot loop of a first join of a big board: locals, no attribute lookups per row.
        kinds, pages, keys = self.kinds, self.pages, self.keys
        compact, contract, drawn = self.compact, self.contract, self.drawn
        expected = self.last_seq + 1
        size = 0
        for _id, seq, kind, author_id, page, stroke_id, target_id, data, _at in rows:
            if seq != expected:
                return False  # never happens with a gapless log; read it all again
            expected += 1
            if kind in _DRAWN:
                key = stroke_id
                body = compact_object(data) if data else None
                text = _item_json(seq, kind, author_id, page, key, body)
                contract.append(None if body and _POINTS_KEY in body else text)
                if key is not None and key not in drawn:
                    drawn[key] = seq
            else:
                key = target_id
                text = _item_json(seq, kind, author_id, page, key, None)
                contract.append(text)
                if kind == "clear":
                    self.last_clear[page] = seq
            kinds.append(kind)
            pages.append(page)
            keys.append(key)
            compact.append(text)
            size += len(text)
        self.size += size
        if rows:
            self.last_id = rows[-1].id
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
        indexes = range(min(since, self.last_seq), self.last_seq)
        if encoding == COMPACT:
            parts = [self.compact[i] for i in indexes if self._shows(i)]
        else:
            parts = [self._contract_text(i) for i in indexes]
        text = "[" + ",".join(parts) + "]"
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
        with self.lock:
            log = self.logs.get(session_id)
            if log is None:
                return BoardLog(session_id)
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


def _rows(session_id: int, from_seq: int):
    """Read item 1 and the items with seq >= from_seq: one query, plain rows, data as text."""
    table = BoardItem.__table__
    return db.session.execute(
        select(
            table.c.id,
            table.c.seq,
            type_coerce(table.c.type, String).label("type"),  # the stored word, no enum
            table.c.author_id,
            table.c.page,
            table.c.stroke_id,
            table.c.target_id,
            cast(table.c.data, Text).label("data"),
            # Only item 1's time is read: with its id it tells this board from an older one
            # with the same number (see BoardLog.extend).
            case((table.c.seq == 1, table.c.created_at), else_=None).label("created_at"),
        )
        .where(
            table.c.session_id == session_id,
            or_(table.c.seq >= from_seq, table.c.seq == 1),
        )
        .order_by(table.c.seq)
    ).all()


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
