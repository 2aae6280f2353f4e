"""Declarative base, constraint naming and UTC datetimes shared by every feature's models."""

from __future__ import annotations

import enum
import json
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Enum, MetaData
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, registry
from sqlalchemy.types import TypeDecorator

# Named constraints let Alembic drop and alter them, on SQLite (batch mode) too.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always returned timezone-aware.

    SQLite keeps no zone, so naive values read back are UTC by construction.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; store aware UTC datetimes only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class CompactJSON(TypeDecorator[Any]):
    """A JSON column written without the spaces json.dumps puts after "," and ":" by default.

    For text that is passed on as it is stored: the whiteboard's replay writes a board's
    items into the `join` answer without decoding them (whiteboard/replay.py), and a stored
    item then needs no rework. Reading and the column's type in the database are JSON's.
    """

    impl = JSON
    cache_ok = True

    def bind_processor(self, dialect: Dialect):
        def process(value: Any) -> str:
            if value is JSON.NULL:
                value = None  # JSON's null, as the JSON type writes it
            return json.dumps(value, separators=(",", ":"))

        return process


def enum_column(enum_class: type[enum.Enum], length: int = 20) -> Enum:
    """Return a column type storing a StrEnum by its value (a string column, no native enum)."""
    return Enum(
        enum_class,
        native_enum=False,
        length=length,
        values_callable=lambda members: [member.value for member in members],
    )


class Base(DeclarativeBase):
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime()},
    )


def render_migration_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    """Write our column types into migrations as the plain types they are stored as."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if type_ == "type" and isinstance(obj, CompactJSON):
        return "sa.JSON()"
    return False
