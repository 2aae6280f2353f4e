"""Validate whiteboard payloads: one parse function per client→server event.

Each `parse_*` function takes the raw payload as Socket.IO decoded it (any JSON value) and
returns a frozen dataclass, or raises ValidationError naming the offending field. The same
functions serve the socket handlers and any HTTP path, so the limits live only here. Unknown
keys are ignored, so newer clients can add optional fields without older servers refusing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l

from tutoring.validation import ValidationError

TOOLS = ("pen", "highlighter", "eraser", "line", "rect", "ellipse", "text")
MAX_ID_LENGTH = 64
MAX_PAGE = 999
MIN_WIDTH = 0.5
MAX_WIDTH = 64.0
MAX_POINTS = 5000
# A live message carries only the points drawn since the previous one (~50 ms of drawing).
MAX_LIVE_POINTS = 500
# The board is 1600×1000 units per page; panning may draw outside it, but not to infinity.
MAX_COORDINATE = 100_000
MAX_TEXT_LENGTH = 2000
# Sequence numbers and session ids end up in 64-bit database columns.
MAX_INT = 2**63 - 1

COLOR = re.compile(r"#[0-9a-fA-F]{6}")
# NUL cannot be stored in PostgreSQL text; no control character has a place in an id.
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# A form field holding a whole number: digits only, no sign, no spaces; at most 19 digits.
FORM_INTEGER = re.compile(r"[0-9]{1,19}")

Point = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Join:
    """`join`: enter a session's board and receive the items after `since`."""

    session_id: int
    since: int | None = None
    # Extension of CONTRACT.md: "compact" asks for the compact replay (docs/whiteboard.md).
    encoding: str = "contract"


@dataclass(frozen=True, slots=True)
class Stroke:
    """`stroke`: one finished stroke to store; `id` is chosen by the client."""

    id: str
    page: int
    tool: str
    color: str
    width: float
    points: tuple[Point, ...]
    text: str | None = None
    # Extension of CONTRACT.md: pen pressure per point (0–1), present only for pen input.
    pressures: tuple[float, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the payload form, as stored and broadcast (without seq and author)."""
        data: dict[str, Any] = {
            "id": self.id,
            "page": self.page,
            "tool": self.tool,
            "color": self.color,
            "width": self.width,
            "points": [[x, y] for x, y in self.points],
        }
        if self.text is not None:
            data["text"] = self.text
        if self.pressures is not None:
            data["pressures"] = list(self.pressures)
        return data


@dataclass(frozen=True, slots=True)
class LiveStroke:
    """`stroke:live`: the points of a stroke in progress since the previous message."""

    id: str
    page: int
    tool: str
    color: str
    width: float
    points: tuple[Point, ...]
    pressures: tuple[float, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the payload form, as relayed to the others."""
        data: dict[str, Any] = {
            "id": self.id,
            "page": self.page,
            "tool": self.tool,
            "color": self.color,
            "width": self.width,
            "points": [[x, y] for x, y in self.points],
        }
        if self.pressures is not None:
            data["pressures"] = list(self.pressures)
        return data


@dataclass(frozen=True, slots=True)
class StrokeRef:
    """`undo` and `redo`: the client id of the stroke to hide or show again."""

    stroke_id: str


@dataclass(frozen=True, slots=True)
class Clear:
    """`clear`: hide everything on a page drawn before this item."""

    page: int


@dataclass(frozen=True, slots=True)
class Pointer:
    """`pointer`: where the laser pointer is; relayed, never stored."""

    page: int
    x: float
    y: float


@dataclass(frozen=True, slots=True)
class ImageUpload:
    """`POST .../board/images` form fields (the file itself is checked by images.py)."""

    page: int
    # The client's id, so a retried upload is stored once; None lets the server choose.
    id: str | None = None


@dataclass(frozen=True, slots=True)
class SnapshotUpload:
    """`POST .../board/snapshots` form fields."""

    page: int


# Field readers. Each takes the payload dict and the field name, so errors name the field.


def _object(payload: Any) -> dict[str, Any]:
    if not isinstance(payload, dict):
        raise ValidationError("payload", _l("Must be an object."))
    return payload


def _integer(data: dict[str, Any], field: str, *, minimum: int, maximum: int = MAX_INT) -> int:
    value = data.get(field)
    if value is None:
        raise ValidationError(field, _l("This field is required."))
    # bool is a subclass of int, but `true` is not a page number.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(field, _l("Must be a whole number."))
    if not minimum <= value <= maximum:
        raise ValidationError(
            field, _l("Must be between %(low)d and %(high)d.", low=minimum, high=maximum)
        )
    return value


def _number(value: Any) -> float | None:
    """Return a finite number as float, or None for anything else."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, int):
        # Checked before float(): a huge JSON integer would overflow the conversion.
        return float(value) if abs(value) <= 2**53 else None
    return value if math.isfinite(value) else None


def _string(value: Any) -> bool:
    """Tell whether the value is text that the database can store."""
    if not isinstance(value, str):
        return False
    try:
        value.encode("utf-8")  # lone surrogates from JSON escapes cannot be stored
    except UnicodeEncodeError:
        return False
    return "\x00" not in value


def _id(data: dict[str, Any], field: str) -> str:
    value = data.get(field)
    if value is None or value == "":
        raise ValidationError(field, _l("This field is required."))
    if not _string(value) or CONTROL.search(value):
        raise ValidationError(field, _l("Must be text."))
    if len(value) > MAX_ID_LENGTH:
        raise ValidationError(field, _l("At most %(n)d characters.", n=MAX_ID_LENGTH))
    return value


def _tool(data: dict[str, Any]) -> str:
    value = data.get("tool")
    if value is None:
        raise ValidationError("tool", _l("This field is required."))
    if not isinstance(value, str) or value not in TOOLS:
        raise ValidationError("tool", _l("Unknown tool."))
    return value


def _color(data: dict[str, Any]) -> str:
    value = data.get("color")
    if value is None:
        raise ValidationError("color", _l("This field is required."))
    if not isinstance(value, str) or not COLOR.fullmatch(value):
        raise ValidationError("color", _l("Must be a colour like #1a2b3c."))
    return value.lower()


def _width(data: dict[str, Any]) -> float:
    value = data.get("width")
    if value is None:
        raise ValidationError("width", _l("This field is required."))
    number = _number(value)
    if number is None or not MIN_WIDTH <= number <= MAX_WIDTH:
        raise ValidationError(
            "width",
            _l(
                "Must be a number from %(low)s to %(high)s.",
                low=f"{MIN_WIDTH:g}",
                high=f"{MAX_WIDTH:g}",
            ),
        )
    return number


def _coordinate(value: Any, field: str) -> float:
    number = _number(value)
    if number is None or abs(number) > MAX_COORDINATE:
        raise ValidationError(
            field, _l("Coordinates must be numbers within ±%(n)d.", n=MAX_COORDINATE)
        )
    return number


def _points(data: dict[str, Any], maximum: int) -> tuple[Point, ...]:
    value = data.get("points")
    if value is None:
        raise ValidationError("points", _l("This field is required."))
    if not isinstance(value, list):
        raise ValidationError("points", _l("Must be a list of [x, y] pairs."))
    if not 1 <= len(value) <= maximum:
        raise ValidationError("points", _l("Must have from 1 to %(n)d points.", n=maximum))
    points = []
    for pair in value:
        if not isinstance(pair, list) or len(pair) != 2:
            raise ValidationError("points", _l("Must be a list of [x, y] pairs."))
        points.append((_coordinate(pair[0], "points"), _coordinate(pair[1], "points")))
    return tuple(points)


def _pressures(data: dict[str, Any], count: int) -> tuple[float, ...] | None:
    value = data.get("pressures")
    if value is None:
        return None
    if not isinstance(value, list) or len(value) != count:
        raise ValidationError("pressures", _l("Must have one pressure per point."))
    pressures = []
    for item in value:
        number = _number(item)
        if number is None or not 0 <= number <= 1:
            raise ValidationError("pressures", _l("Pressures must be numbers from 0 to 1."))
        pressures.append(number)
    return tuple(pressures)


def _text(data: dict[str, Any], tool: str) -> str | None:
    value = data.get("text")
    if tool != "text":
        if value is not None:
            raise ValidationError("text", _l("Only the text tool has text."))
        return None
    # Leading spaces and line breaks are the writer's layout, so the text is kept as sent.
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValidationError("text", _l("This field is required."))
    if not _string(value):
        raise ValidationError("text", _l("Must be text."))
    if len(value) > MAX_TEXT_LENGTH:
        raise ValidationError("text", _l("At most %(n)d characters.", n=MAX_TEXT_LENGTH))
    return value


def _form_integer(data: Mapping[str, Any], field: str, *, minimum: int, maximum: int) -> int:
    """Read a whole number sent as text (a multipart form field), like _integer does for JSON."""
    value = data.get(field)
    if value is None or value == "":
        raise ValidationError(field, _l("This field is required."))
    if not isinstance(value, str) or not FORM_INTEGER.fullmatch(value):
        raise ValidationError(field, _l("Must be a whole number."))
    return _integer({field: int(value)}, field, minimum=minimum, maximum=maximum)


# One parse function per client→server event of CONTRACT.md.


ENCODINGS = ("contract", "compact")


def parse_join(payload: Any) -> Join:
    """Validate `join {session_id, since?, encoding?}` (encoding: an extension)."""
    data = _object(payload)
    session_id = _integer(data, "session_id", minimum=1)
    since = None if data.get("since") is None else _integer(data, "since", minimum=0)
    encoding = data.get("encoding")
    if encoding is None:
        encoding = "contract"
    elif not isinstance(encoding, str) or encoding not in ENCODINGS:
        raise ValidationError("encoding", _l("Unknown encoding."))
    return Join(session_id=session_id, since=since, encoding=encoding)


def _drawn(data: dict[str, Any], max_points: int) -> dict[str, Any]:
    """Read the fields a finished and a live stroke share, in the order errors are reported."""
    fields = {
        "id": _id(data, "id"),
        "page": _integer(data, "page", minimum=0, maximum=MAX_PAGE),
        "tool": _tool(data),
        "color": _color(data),
        "width": _width(data),
        "points": _points(data, max_points),
    }
    fields["pressures"] = _pressures(data, len(fields["points"]))
    return fields


def parse_stroke(payload: Any) -> Stroke:
    """Validate `stroke {id, page, tool, color, width, points, text?}`."""
    data = _object(payload)
    fields = _drawn(data, MAX_POINTS)
    return Stroke(**fields, text=_text(data, fields["tool"]))


def parse_stroke_live(payload: Any) -> LiveStroke:
    """Validate `stroke:live {id, page, tool, color, width, points}` (a smaller batch)."""
    return LiveStroke(**_drawn(_object(payload), MAX_LIVE_POINTS))


def parse_undo(payload: Any) -> StrokeRef:
    """Validate `undo {stroke_id}`."""
    return StrokeRef(stroke_id=_id(_object(payload), "stroke_id"))


def parse_redo(payload: Any) -> StrokeRef:
    """Validate `redo {stroke_id}`."""
    return StrokeRef(stroke_id=_id(_object(payload), "stroke_id"))


def parse_clear(payload: Any) -> Clear:
    """Validate `clear {page}`."""
    return Clear(page=_integer(_object(payload), "page", minimum=0, maximum=MAX_PAGE))


def parse_pointer(payload: Any) -> Pointer:
    """Validate `pointer {page, x, y}`."""
    data = _object(payload)
    page = _integer(data, "page", minimum=0, maximum=MAX_PAGE)
    if "x" not in data:
        raise ValidationError("x", _l("This field is required."))
    if "y" not in data:
        raise ValidationError("y", _l("This field is required."))
    return Pointer(page=page, x=_coordinate(data["x"], "x"), y=_coordinate(data["y"], "y"))


def parse_image_upload(form: Mapping[str, Any]) -> ImageUpload:
    """Validate the form fields of an image upload: `page`, optional `id`."""
    page = _form_integer(form, "page", minimum=0, maximum=MAX_PAGE)
    client_id = None if form.get("id") in (None, "") else _id(form, "id")
    return ImageUpload(page=page, id=client_id)


def parse_snapshot_upload(form: Mapping[str, Any]) -> SnapshotUpload:
    """Validate the form fields of a snapshot upload: `page`."""
    return SnapshotUpload(page=_form_integer(form, "page", minimum=0, maximum=MAX_PAGE))


PARSERS: dict[str, Callable[[Any], object]] = {
    "join": parse_join,
    "stroke": parse_stroke,
    "stroke:live": parse_stroke_live,
    "undo": parse_undo,
    "redo": parse_redo,
    "clear": parse_clear,
    "pointer": parse_pointer,
}


# Compact point encoding for replaying big boards.
#
# A 5000-point stroke as [[x, y], ...] with full floats is ~100 kB of JSON; flattened to
# [x, y, x, y, ...] and rounded to 0.1 board units (a 1600×1000 page: far below a pixel even
# zoomed in) it is about a third of that. A replayed item may carry `points` in either form;
# the browser client tells them apart by whether the first element is a number or a list.
# Live messages and client→server payloads always use pairs, as CONTRACT.md says.


def encode_points(points: Iterable[Sequence[float]]) -> list[float | int]:
    """Flatten [[x, y], ...] to [x, y, x, y, ...] rounded to 0.1; whole numbers lose ".0"."""
    flat: list[float | int] = []
    for x, y in points:
        flat.append(_compact(x))
        flat.append(_compact(y))
    return flat


def point_pairs(points: Sequence) -> list:
    """Return stored points as [[x, y], ...], the numbers as stored (flat or already pairs)."""
    if not points or isinstance(points[0], list):
        return list(points)
    return [[points[i], points[i + 1]] for i in range(0, len(points) - 1, 2)]


def decode_points(flat: Sequence[float]) -> list[list[float]]:
    """Return [[x, y], ...] from the flat form of `encode_points`."""
    if len(flat) % 2:
        raise ValueError("a flat point list has an even length")
    return [[float(flat[i]), float(flat[i + 1])] for i in range(0, len(flat), 2)]


def _compact(value: float) -> float | int:
    rounded = round(float(value), 1)
    return int(rounded) if rounded.is_integer() else rounded
