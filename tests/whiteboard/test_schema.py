"""Whiteboard payload validation: every limit of CONTRACT.md, by field, without an app."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tutoring.validation import ValidationError
from tutoring.whiteboard import schema
from tutoring.whiteboard.schema import (
    Clear,
    Join,
    Pointer,
    Stroke,
    StrokeRef,
    decode_points,
    encode_points,
    parse_clear,
    parse_join,
    parse_pointer,
    parse_redo,
    parse_stroke,
    parse_stroke_live,
    parse_undo,
)


def stroke(**changes):
    """Return a valid stroke payload with some fields changed (None removes the field)."""
    payload = {
        "id": "2f1c9a7e-4b1d-4c1e-9a55-0d3c1b7e9f10",
        "page": 0,
        "tool": "pen",
        "color": "#1a2b3c",
        "width": 4,
        "points": [[10, 20], [30.5, 40.25]],
    }
    payload.update(changes)
    return {key: value for key, value in payload.items() if value is not None}


def field_of(parse, payload) -> str:
    with pytest.raises(ValidationError) as caught:
        parse(payload)
    return caught.value.field


# join


def test_join_valid():
    assert parse_join({"session_id": 7}) == Join(session_id=7, since=None)
    assert parse_join({"session_id": 7, "since": 0}) == Join(7, 0)
    assert parse_join({"session_id": 7, "since": 120}) == Join(7, 120)
    assert parse_join({"session_id": 7, "since": None}) == Join(7, None)
    # Extension: the compact replay is asked for; without it, the contract's form.
    assert parse_join({"session_id": 7, "encoding": "compact"}).encoding == "compact"
    assert parse_join({"session_id": 7, "encoding": None}).encoding == "contract"
    assert parse_join({"session_id": 7}).encoding == "contract"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({}, "session_id"),
        ({"session_id": 0}, "session_id"),
        ({"session_id": -1}, "session_id"),
        ({"session_id": "7"}, "session_id"),
        ({"session_id": 7.0}, "session_id"),
        ({"session_id": True}, "session_id"),
        ({"session_id": 2**63}, "session_id"),
        ({"session_id": 7, "since": -1}, "since"),
        ({"session_id": 7, "since": "3"}, "since"),
        ({"session_id": 7, "since": False}, "since"),
        ({"session_id": 7, "since": 1.5}, "since"),
        ({"session_id": 7, "encoding": "flat"}, "encoding"),
        ({"session_id": 7, "encoding": 1}, "encoding"),
    ],
)
def test_join_invalid(payload, field):
    assert field_of(parse_join, payload) == field


# stroke


def test_stroke_valid_and_normalised():
    result = parse_stroke(stroke(color="#ABCDEF", width=0.5))
    assert result == Stroke(
        id="2f1c9a7e-4b1d-4c1e-9a55-0d3c1b7e9f10",
        page=0,
        tool="pen",
        color="#abcdef",
        width=0.5,
        points=((10.0, 20.0), (30.5, 40.25)),
    )
    assert all(isinstance(v, float) for point in result.points for v in point)


@pytest.mark.parametrize("tool", ["pen", "highlighter", "eraser", "line", "rect", "ellipse"])
def test_every_drawing_tool_is_accepted(tool):
    assert parse_stroke(stroke(tool=tool)).tool == tool


def test_text_stroke_keeps_its_text_as_written():
    result = parse_stroke(stroke(tool="text", points=[[5, 5]], text="  x² + 1\n= 0"))
    assert result.text == "  x² + 1\n= 0"
    assert parse_stroke(stroke(tool="text", text="あ" * 2000)).text == "あ" * 2000


def test_stroke_limits_are_inclusive():
    assert parse_stroke(stroke(width=64)).width == 64.0
    assert parse_stroke(stroke(page=999)).page == 999
    assert parse_stroke(stroke(id="x" * 64)).id == "x" * 64
    assert len(parse_stroke(stroke(points=[[1, 2]] * 5000)).points) == 5000
    assert parse_stroke(stroke(points=[[-100000, 100000]])).points == ((-100000.0, 100000.0),)


def test_stroke_round_trips_through_its_dict():
    original = parse_stroke(
        stroke(tool="pen", points=[[1, 2], [3, 4]], pressures=[0.2, 0.9], width=2.5)
    )
    assert parse_stroke(original.to_dict()) == original
    text = parse_stroke(stroke(tool="text", points=[[1, 2]], text="答え"))
    assert parse_stroke(text.to_dict()) == text
    assert "pressures" not in text.to_dict()


def test_unknown_keys_are_ignored():
    assert parse_stroke(stroke(extra={"anything": 1})).tool == "pen"


NAN = math.nan
INF = math.inf


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"id": None}, "id"),
        ({"id": ""}, "id"),
        ({"id": "x" * 65}, "id"),
        ({"id": 12}, "id"),
        ({"id": ["a"]}, "id"),
        ({"id": "a\x00b"}, "id"),
        ({"id": "a\nb"}, "id"),
        ({"id": "\ud800"}, "id"),
        ({"page": None}, "page"),
        ({"page": -1}, "page"),
        ({"page": 1000}, "page"),
        ({"page": 1.0}, "page"),
        ({"page": "0"}, "page"),
        ({"page": True}, "page"),
        ({"tool": None}, "tool"),
        ({"tool": "spray"}, "tool"),
        ({"tool": "Pen"}, "tool"),
        ({"tool": "laser"}, "tool"),  # the laser is a pointer, never a stored stroke
        ({"tool": ["pen"]}, "tool"),
        ({"color": None}, "color"),
        ({"color": "red"}, "color"),
        ({"color": "#12345"}, "color"),
        ({"color": "#1234567"}, "color"),
        ({"color": "#12345g"}, "color"),
        ({"color": "#123456\n"}, "color"),
        ({"color": "123456"}, "color"),
        ({"color": 0x123456}, "color"),
        ({"width": None}, "width"),
        ({"width": 0}, "width"),
        ({"width": 0.49}, "width"),
        ({"width": 64.01}, "width"),
        ({"width": 1000}, "width"),
        ({"width": 10**400}, "width"),
        ({"width": NAN}, "width"),
        ({"width": INF}, "width"),
        ({"width": "4"}, "width"),
        ({"width": True}, "width"),
        ({"points": None}, "points"),
        ({"points": []}, "points"),
        ({"points": [[1, 2]] * 5001}, "points"),
        ({"points": [[NAN, 1]]}, "points"),
        ({"points": [[1, INF]]}, "points"),
        ({"points": [[1, -INF]]}, "points"),
        ({"points": [[True, 1]]}, "points"),
        ({"points": [["1", 2]]}, "points"),
        ({"points": [[1, None]]}, "points"),
        ({"points": [[1, 2, 3]]}, "points"),
        ({"points": [[1]]}, "points"),
        ({"points": [1, 2]}, "points"),
        ({"points": [[[1, 2]]]}, "points"),
        ({"points": [{"x": 1, "y": 2}]}, "points"),
        ({"points": "1,2"}, "points"),
        ({"points": {"0": [1, 2]}}, "points"),
        ({"points": [[100001, 0]]}, "points"),
        ({"points": [[0, -100001]]}, "points"),
        ({"points": [[10**400, 0]]}, "points"),
        ({"text": "hello"}, "text"),  # only the text tool has text
        ({"tool": "text"}, "text"),
        ({"tool": "text", "text": "   "}, "text"),
        ({"tool": "text", "text": "x" * 2001}, "text"),
        ({"tool": "text", "text": 5}, "text"),
        ({"tool": "text", "text": "a\x00"}, "text"),
        ({"pressures": [0.5]}, "pressures"),
        ({"pressures": [0.5, 1.5]}, "pressures"),
        ({"pressures": [0.5, NAN]}, "pressures"),
        ({"pressures": "0.5"}, "pressures"),
    ],
)
def test_stroke_invalid(changes, field):
    assert field_of(parse_stroke, stroke(**changes)) == field


@pytest.mark.parametrize("payload", [None, [], "stroke", 3, 2.5, True, [{"id": "a"}]])
@pytest.mark.parametrize(
    "parse",
    [
        parse_join,
        parse_stroke,
        parse_stroke_live,
        parse_undo,
        parse_redo,
        parse_clear,
        parse_pointer,
    ],
)
def test_non_object_payloads_are_refused(parse, payload):
    assert field_of(parse, payload) == "payload"


# stroke:live


def test_live_stroke_has_a_smaller_batch():
    assert len(parse_stroke_live(stroke(points=[[1, 2]] * 500)).points) == 500
    assert field_of(parse_stroke_live, stroke(points=[[1, 2]] * 501)) == "points"


def test_live_stroke_round_trips_and_checks_like_a_stroke():
    live = parse_stroke_live(stroke())
    assert parse_stroke_live(live.to_dict()) == live
    assert field_of(parse_stroke_live, stroke(color="blue")) == "color"
    assert field_of(parse_stroke_live, stroke(points=[[NAN, 0]])) == "points"
    assert field_of(parse_stroke_live, stroke(id=None)) == "id"


# undo, redo, clear, pointer


@pytest.mark.parametrize("parse", [parse_undo, parse_redo])
def test_undo_and_redo(parse):
    assert parse({"stroke_id": "abc"}) == StrokeRef("abc")
    assert field_of(parse, {}) == "stroke_id"
    assert field_of(parse, {"stroke_id": 3}) == "stroke_id"
    assert field_of(parse, {"stroke_id": "x" * 65}) == "stroke_id"
    assert field_of(parse, {"id": "abc"}) == "stroke_id"


def test_clear():
    assert parse_clear({"page": 2}) == Clear(2)
    for bad in [{}, {"page": -1}, {"page": "2"}, {"page": None}, {"page": False}]:
        assert field_of(parse_clear, bad) == "page"


def test_pointer():
    assert parse_pointer({"page": 1, "x": 800, "y": 500.5}) == Pointer(1, 800.0, 500.5)
    assert field_of(parse_pointer, {"x": 1, "y": 2}) == "page"
    assert field_of(parse_pointer, {"page": 0, "y": 2}) == "x"
    assert field_of(parse_pointer, {"page": 0, "x": 1}) == "y"
    assert field_of(parse_pointer, {"page": 0, "x": NAN, "y": 2}) == "x"
    assert field_of(parse_pointer, {"page": 0, "x": 1, "y": "2"}) == "y"
    assert field_of(parse_pointer, {"page": 0, "x": 1, "y": 1e9}) == "y"


def test_parsers_cover_every_client_event():
    assert set(schema.PARSERS) == {
        "join",
        "stroke",
        "stroke:live",
        "undo",
        "redo",
        "clear",
        "pointer",
    }


def test_messages_are_lazy_english_source_strings():
    with pytest.raises(ValidationError) as caught:
        parse_stroke(stroke(points=[]))
    assert "5000" in str(caught.value.message)
    assert type(caught.value.message).__name__ == "LazyString"


# compact points


def test_encode_points_flattens_and_rounds():
    assert encode_points([[1.04, 2.06], [3, -4.25]]) == [1, 2.1, 3, -4.2]
    assert encode_points([]) == []


def test_decode_points_inverts_encode_within_rounding():
    points = [[12.34, 56.78], [-0.01, 1599.96]]
    decoded = decode_points(encode_points(points))
    assert all(
        abs(a - b) <= 0.05 + 1e-9
        for pair, back in zip(points, decoded, strict=True)
        for a, b in zip(pair, back, strict=True)
    )
    with pytest.raises(ValueError, match="even"):
        decode_points([1, 2, 3])


# Random JSON-like payloads: nothing but ValidationError may come out.

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=80),
    lambda children: (
        st.lists(children, max_size=6) | st.dictionaries(st.text(max_size=12), children, max_size=6)
    ),
    max_leaves=30,
)
field_values = st.one_of(
    json_values,
    st.sampled_from(["pen", "text", "eraser", "#00ff00", "#ZZZZZZ", "", "x" * 65]),
    st.lists(st.lists(st.floats() | st.integers(), max_size=3), max_size=8),
)
payloads = st.one_of(
    json_values,
    st.dictionaries(
        st.sampled_from(
            ["id", "page", "tool", "color", "width", "points", "text", "pressures"]
            + ["session_id", "since", "stroke_id", "x", "y"]
        ),
        field_values,
    ),
)


@settings(max_examples=300, deadline=None)
@given(payload=payloads)
def test_random_payloads_raise_only_validation_errors(payload):
    for parse in schema.PARSERS.values():
        field = "<none>"
        try:
            parse(payload)
        except ValidationError as error:
            field = error.field
        assert isinstance(field, str)
        assert field


@settings(max_examples=100, deadline=None)
@given(
    points=st.lists(
        st.tuples(
            st.floats(min_value=-1e5, max_value=1e5), st.floats(min_value=-1e5, max_value=1e5)
        ),
        min_size=1,
        max_size=50,
    ),
    width=st.floats(min_value=0.5, max_value=64),
    page=st.integers(min_value=0, max_value=999),
)
def test_random_valid_strokes_round_trip(points, width, page):
    payload = stroke(points=[list(p) for p in points], width=width, page=page)
    result = parse_stroke(payload)
    assert parse_stroke(result.to_dict()) == result
    assert len(decode_points(encode_points(result.points))) == len(points)
