"""From events to intervals, minutes and statuses: the pure rules, without a database."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tutoring.attendance.intervals import (
    Interval,
    Rules,
    Span,
    build_intervals,
    derive_status,
    merge,
    summarise,
)
from tutoring.attendance.models import AttendanceStatus, ClosedBy, PresenceKind, PresenceSource

START = datetime(2026, 12, 1, 7, 0, tzinfo=UTC)  # 16:00 in Tokyo
END = START + timedelta(hours=2)
RULES = Rules()
PAGE, VIDEO, BOARD = PresenceSource.PAGE, PresenceSource.VIDEO, PresenceSource.WHITEBOARD
JOINED, LEFT, BEAT = PresenceKind.JOINED, PresenceKind.LEFT, PresenceKind.HEARTBEAT


@dataclass
class E:
    source: PresenceSource
    kind: PresenceKind
    occurred_at: datetime
    client_id: str = "tab-1"
    id: int | None = None


def t(minutes: float, seconds: float = 0) -> datetime:
    return START + timedelta(minutes=minutes, seconds=seconds)


def numbered(events: list[E]) -> list[E]:
    for n, event in enumerate(events, start=1):
        event.id = n
    return events


def page_visit(start: float, end: float, client: str = "tab-1", *, left: bool = True) -> list[E]:
    """A room page open from start to end (minutes), beating every 30 s."""
    events = [E(PAGE, JOINED, t(start), client)]
    moment = start + 0.5
    while moment < end:
        events.append(E(PAGE, BEAT, t(moment), client))
        moment += 0.5
    events.append(E(PAGE, LEFT if left else BEAT, t(end), client))
    return events


def spans_of(events: list[E], now: datetime = END + timedelta(hours=1), settle=True) -> list[Span]:
    return merge(
        build_intervals(events, stale=RULES.stale, now=now, settle=settle), RULES.merge_gap
    )


def minutes(spans: list[Span], now: datetime = END + timedelta(hours=1)) -> int:
    return summarise(spans, START, END, now).minutes_present


def test_one_visit_gives_one_interval_and_exact_minutes():
    spans = spans_of(numbered(page_visit(0, 45, left=True)))
    assert spans == [Span(t(0), t(45))]
    assert minutes(spans) == 45


def test_two_tabs_of_one_person_count_once():
    events = numbered(page_visit(5, 60, "tab-1") + page_visit(30, 90, "tab-2"))
    spans = spans_of(events)
    assert spans == [Span(t(5), t(90))]
    assert minutes(spans) == 85


def test_a_second_device_that_does_not_overlap_adds_its_own_time():
    events = numbered(page_visit(0, 30, "laptop") + page_visit(40, 70, "phone"))
    assert spans_of(events) == [Span(t(0), t(30)), Span(t(40), t(70))]
    assert minutes(spans_of(events)) == 60


def test_a_reconnect_within_seconds_is_one_interval_and_the_seconds_count():
    events = numbered(
        [
            E(BOARD, JOINED, t(0), "sid-1"),
            E(BOARD, LEFT, t(40), "sid-1"),
            E(BOARD, JOINED, t(40, 7), "sid-2"),  # the socket reconnected 7 s later
            E(BOARD, LEFT, t(100), "sid-2"),
        ]
    )
    spans = spans_of(events)
    assert spans == [Span(t(0), t(100))]
    assert minutes(spans) == 100


def test_a_longer_break_than_the_merge_gap_is_not_counted():
    events = numbered(
        [
            E(BOARD, JOINED, t(0), "sid-1"),
            E(BOARD, LEFT, t(40), "sid-1"),
            E(BOARD, JOINED, t(41, 1), "sid-2"),  # 61 s later: a real break
            E(BOARD, LEFT, t(100), "sid-2"),
        ]
    )
    spans = spans_of(events)
    assert spans == [Span(t(0), t(40)), Span(t(41, 1), t(100))]
    # 40 min + 58 min 59 s = 98 min 59 s: whole minutes only.
    assert minutes(spans) == 98


def test_overlapping_video_and_whiteboard_merge():
    events = numbered(
        [
            E(VIDEO, JOINED, t(2), "tab-1"),
            E(BOARD, JOINED, t(3), "sid-1"),
            E(VIDEO, LEFT, t(50), "tab-1"),
            E(BOARD, LEFT, t(80), "sid-1"),
            E(VIDEO, JOINED, t(79), "tab-1"),
            E(VIDEO, LEFT, t(118, 30), "tab-1"),
        ]
    )
    spans = spans_of(events)
    assert spans == [Span(t(2), t(118, 30))]
    assert minutes(spans) == 116


def test_minutes_count_only_the_planned_time():
    events = numbered(page_visit(-10, 130))
    assert minutes(spans_of(events)) == 120


def test_out_of_order_events_give_the_same_intervals():
    events = numbered(
        page_visit(0, 30, "tab-1")
        + [E(VIDEO, JOINED, t(1), "tab-1"), E(VIDEO, LEFT, t(29), "tab-1")]
        + page_visit(25, 61, "tab-2")
    )
    expected = spans_of(events)
    shuffled = list(events)
    random.Random(7).shuffle(shuffled)
    assert spans_of(shuffled) == expected
    assert spans_of(list(reversed(events))) == expected == [Span(t(0), t(61))]


def test_duplicate_events_change_nothing():
    events = numbered(
        [
            E(VIDEO, JOINED, t(0)),
            E(VIDEO, JOINED, t(0)),
            E(VIDEO, JOINED, t(3)),  # Jitsi's joined again while still in
            E(VIDEO, LEFT, t(60)),
            E(VIDEO, LEFT, t(60)),
            E(VIDEO, LEFT, t(61)),  # a second leave of a closed interval
        ]
    )
    intervals = build_intervals(events, stale=RULES.stale, now=END, settle=True)
    assert intervals == [Interval(t(0), t(60), VIDEO, "tab-1", ClosedBy.LEFT)]


def test_a_page_whose_heartbeats_stop_is_closed_at_the_last_one():
    events = numbered(page_visit(0, 42, left=False))  # the browser was killed at 42:10
    live = build_intervals(events, stale=RULES.stale, now=t(43), settle=False)
    assert live == [Interval(t(0), None, PAGE, "tab-1", None)]  # still in the room
    later = build_intervals(events, stale=RULES.stale, now=t(50), settle=False)
    assert later == [Interval(t(0), t(42), PAGE, "tab-1", ClosedBy.SWEEP)]
    assert build_intervals(events, stale=RULES.stale, now=t(43), settle=True) == later


def test_heartbeats_resuming_after_a_long_gap_start_a_new_interval():
    events = numbered(page_visit(0, 20, left=False) + page_visit(30, 60)[1:])
    intervals = build_intervals(events, stale=RULES.stale, now=END, settle=True)
    assert [(i.joined_at, i.left_at, i.closed_by) for i in intervals] == [
        (t(0), t(20), ClosedBy.SWEEP),
        (t(30, 30), t(60), ClosedBy.LEFT),
    ]


def test_a_whiteboard_left_open_closes_where_the_heartbeats_end():
    events = numbered(
        [E(BOARD, JOINED, t(1), "sid-1"), *page_visit(0, 33, left=False)]
    )  # the server died at 33:00: no whiteboard leave, no more heartbeats
    intervals = build_intervals(events, stale=RULES.stale, now=t(90), settle=True)
    board = [i for i in intervals if i.source is BOARD]
    assert board == [Interval(t(1), t(33), BOARD, "sid-1", ClosedBy.SWEEP)]
    assert merge(intervals, RULES.merge_gap) == [Span(t(0), t(33))]


def test_a_whiteboard_client_without_heartbeats_stays_open_until_settled():
    events = numbered([E(BOARD, JOINED, t(1), "sid-1")])
    assert build_intervals(events, stale=RULES.stale, now=t(60)) == [
        Interval(t(1), None, BOARD, "sid-1", None)
    ]
    assert build_intervals(events, stale=RULES.stale, now=t(200), settle=True) == [
        Interval(t(1), t(1), BOARD, "sid-1", ClosedBy.SWEEP)
    ]


def test_an_open_span_counts_up_to_now():
    spans = spans_of(numbered(page_visit(0, 20, left=False)), now=t(20, 10), settle=False)
    assert spans == [Span(t(0), None)]
    assert summarise(spans, START, END, t(25)).minutes_present == 25
    assert summarise(spans, START, END, t(25)).last_left_at is None


@settings(max_examples=60, deadline=None)
@given(
    visits=st.lists(
        st.tuples(
            st.sampled_from([PAGE, VIDEO, BOARD]),
            st.sampled_from(["a", "b", "c"]),
            st.integers(min_value=-20, max_value=130),
            st.integers(min_value=0, max_value=90),
        ),
        min_size=1,
        max_size=6,
    ),
    seed=st.integers(min_value=0, max_value=1000),
    duplicates=st.integers(min_value=0, max_value=5),
)
def test_order_and_duplicates_never_change_the_result(visits, seed, duplicates):
    events = []
    for source, client, start, length in visits:
        if source is PAGE:
            events += page_visit(start, start + length, client)
        else:
            events += [
                E(source, JOINED, t(start), client),
                E(source, LEFT, t(start + length), client),
            ]
    numbered(events)
    expected = spans_of(events)
    rng = random.Random(seed)
    noisy = events + [rng.choice(events) for _ in range(duplicates)]
    rng.shuffle(noisy)
    result = spans_of(noisy)
    assert result == expected
    # Merged spans never overlap, and never count more than the planned time.
    for first, second in zip(result, result[1:], strict=False):
        assert second.joined_at - first.left_at > RULES.merge_gap
    assert 0 <= minutes(result) <= 120


# Statuses at the limits


def status(spans, *, now=END, absence_counts=True):
    return derive_status(
        spans, starts_at=START, ends_at=END, now=now, rules=RULES, absence_counts=absence_counts
    )


@pytest.mark.parametrize(
    ("joined", "expected"),
    [
        (t(-5), AttendanceStatus.PRESENT),
        (t(10), AttendanceStatus.PRESENT),  # exactly at the grace limit: on time
        (t(10, 1), AttendanceStatus.LATE),  # one second later: late
        (t(60), AttendanceStatus.LATE),
    ],
)
def test_late_after_the_grace_period(joined, expected):
    assert status([Span(joined, t(120))]) is expected


@pytest.mark.parametrize(
    ("left", "expected"),
    [
        (t(120), AttendanceStatus.PRESENT),
        (t(110), AttendanceStatus.PRESENT),  # exactly at the limit
        (t(109, 59), AttendanceStatus.LEFT_EARLY),
        (t(30), AttendanceStatus.LEFT_EARLY),
    ],
)
def test_left_early_before_the_end(left, expected):
    assert status([Span(t(0), left)]) is expected


def test_late_wins_over_left_early_and_absent_needs_presence_in_the_planned_time():
    assert status([Span(t(20), t(60))]) is AttendanceStatus.LATE
    assert status([]) is AttendanceStatus.ABSENT
    assert status([Span(t(-14), t(-1))]) is AttendanceStatus.ABSENT  # gone before the start
    assert status([Span(t(121), t(125))]) is AttendanceStatus.ABSENT


def test_no_status_before_the_end_and_no_absence_in_person():
    assert status([Span(t(0), None)], now=END - timedelta(seconds=1)) is None
    assert status([], absence_counts=False) is None
    assert status([Span(t(0), t(120))], absence_counts=False) is AttendanceStatus.PRESENT
