"""The board of a session: an append-only log of items numbered per board."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tutoring.database import CompactJSON, enum_column, utcnow
from tutoring.extensions import db


class ItemType(enum.StrEnum):
    STROKE = "stroke"
    ERASE = "erase"  # hides a stroke (undo)
    RESTORE = "restore"  # shows it again (redo)
    CLEAR = "clear"  # hides everything on a page drawn before it
    IMAGE = "image"  # a photo or page of material placed on a page


class Board(db.Model):
    """One board per session; `last_seq` hands out the items' numbers."""

    __tablename__ = "boards"

    session_id: Mapped[int] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True
    )
    last_seq: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BoardItem(db.Model):
    __tablename__ = "board_items"
    __table_args__ = (
        UniqueConstraint("session_id", "seq"),
        # A stroke re-sent after a reconnect is found by its client id and stored once.
        UniqueConstraint("session_id", "stroke_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("boards.session_id", ondelete="CASCADE"))
    seq: Mapped[int]
    type: Mapped[ItemType] = mapped_column(enum_column(ItemType))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    page: Mapped[int] = mapped_column(default=0)
    # The client's id of a stroke or image; unique per board.
    stroke_id: Mapped[str | None] = mapped_column(String(64))
    # The stroke an erase or restore refers to.
    target_id: Mapped[str | None] = mapped_column(String(64))
    # Tool, colour, width, points (flat, see schema.encode_points), text, pressures; image data.
    # Stored compact: the replay passes it on as text (replay.py).
    data: Mapped[dict] = mapped_column(CompactJSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class BoardSnapshot(db.Model):
    """A page of the board saved as a PNG (by the tutor), for the study notes of the session.

    The file is instance/whiteboard/<session_id>/<stored_name>; see images.py.
    """

    __tablename__ = "board_snapshots"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), index=True
    )
    page: Mapped[int] = mapped_column(default=0)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    stored_name: Mapped[str] = mapped_column(String(64), unique=True)
    width: Mapped[int]
    height: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
