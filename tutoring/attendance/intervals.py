"""From presence events to intervals, minutes and a status: pure functions, no database.

Events are grouped per stream (source and client id: one tab, one device, one socket). In a
stream "joined" opens an interval, "heartbeat" extends it (or opens one when none is open),
"left" closes it. Only the room page sends heartbeats, every 30 seconds; so a page stream
silent for longer than `stale` was closed at its last event. Video and whiteboard streams
send no heartbeats: one left open is closed where the person's presence fades out, the end of
the chain of their events (any source, any client) with no gap longer than `stale`.

The intervals of all streams of one person are then merged, so two tabs, a second device or a
reconnect never count twice; gaps up to `merge_gap` (a reconnect) count as present.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from tutoring.attendance.models import (
    ATTENDED,
    AttendanceStatus,
    ClosedBy,
    PresenceKind,
    PresenceSource,
)

# Same instant: a join sorts before a heartbeat, both before a leave.
_KIND_ORDER = {PresenceKind.JOINED: 0, PresenceKind.HEARTBEAT: 1, PresenceKind.LEFT: 2}


class EventLike(Protocol):
    id: int | None
    source: PresenceSource
    kind: PresenceKind
    client_id: str
    occurred_at: datetime


@dataclass(frozen=True)
class Rules:
    """The attendance settings of the program (see tutoring/config.py)."""

    stale: timedelta = timedelta(seconds=150)
    merge_gap: timedelta = timedelta(seconds=60)
    grace: timedelta = timedelta(minutes=10)
    left_early: timedelta = timedelta(minutes=10)

    @classmethod
    def from_config(cls, config) -> Rules:
        return cls(
            stale=timedelta(seconds=config["ATTENDANCE_STALE_SECONDS"]),
            merge_gap=timedelta(seconds=config["ATTENDANCE_MERGE_GAP_SECONDS"]),
            grace=timedelta(minutes=config["ATTENDANCE_GRACE_MINUTES"]),
            left_early=timedelta(minutes=config["ATTENDANCE_LEFT_EARLY_MINUTES"]),
        )


@dataclass(frozen=True)
class Interval:
    """Presence of one stream; `left_at` None means still open (the person is in the room)."""

    joined_at: datetime
    left_at: datetime | None
    source: PresenceSource | None = None
    client_id: str = ""
    closed_by: ClosedBy | None = None


@dataclass(frozen=True)
class Span:
    """A merged stretch of presence of one person; `left_at` None: still there."""

    joined_at: datetime
    left_at: datetime | None


def _sort_key(event: EventLike):
    return (event.occurred_at, _KIND_ORDER[event.kind], event.id or 0)


def _chain_end(times: Sequence[datetime], start: datetime, stale: timedelta) -> datetime:
    """Return the last event time reachable from start in steps no longer than stale."""
    end = start
    for moment in times[bisect_left(times, start) :]:
        if moment - end > stale:
            break
        end = moment
    return end


def build_intervals(
    events: Iterable[EventLike],
    *,
    stale: timedelta,
    now: datetime,
    settle: bool = False,
) -> list[Interval]:
    """Return the intervals of one person's events in one session, oldest first.

    Without `settle`, an interval still backed by recent events (or a video or whiteboard
    stream of someone who sends no heartbeats) stays open. With `settle` every open interval
    is closed, by the sweep, at the last sign of presence.
    """
    ordered = sorted(events, key=_sort_key)
    times = [event.occurred_at for event in ordered]
    has_heartbeats = any(event.source is PresenceSource.PAGE for event in ordered)
    streams: dict[tuple[PresenceSource, str], list[EventLike]] = {}
    for event in ordered:
        streams.setdefault((event.source, event.client_id), []).append(event)

    intervals: list[Interval] = []
    for (source, client_id), stream in streams.items():
        beats = source is PresenceSource.PAGE
        start: datetime | None = None
        last: datetime | None = None
        for event in stream:
            moment = event.occurred_at
            if start is not None and beats and moment - last > stale:
                intervals.append(Interval(start, last, source, client_id, ClosedBy.SWEEP))
                start = None
            if event.kind is PresenceKind.LEFT:
                if start is not None:
                    intervals.append(Interval(start, moment, source, client_id, ClosedBy.LEFT))
                    start = None
                continue  # a leave with nothing open (a duplicate, or after a sweep) changes nothing
            if start is None:
                start = last = moment
            else:
                last = max(last, moment)
        if start is None:
            continue
        end = last if beats else _chain_end(times, start, stale)
        still_there = now - end <= stale or (not beats and not has_heartbeats)
        if still_there and not settle:
            intervals.append(Interval(start, None, source, client_id, None))
        else:
            intervals.append(Interval(start, end, source, client_id, ClosedBy.SWEEP))
    intervals.sort(key=lambda interval: (interval.joined_at, interval.left_at is None))
    return intervals


def merge(intervals: Iterable[Interval], gap: timedelta) -> list[Span]:
    """Merge overlapping intervals, and those apart by at most gap, into spans."""
    spans: list[Span] = []
    for interval in sorted(intervals, key=lambda i: i.joined_at):
        if spans:
            previous = spans[-1]
            if previous.left_at is None:
                continue  # an open span covers everything after its start
            if interval.joined_at - previous.left_at <= gap:
                end = None if interval.left_at is None else max(previous.left_at, interval.left_at)
                spans[-1] = Span(previous.joined_at, end)
                continue
        spans.append(Span(interval.joined_at, interval.left_at))
    return spans


def seconds_present(
    spans: Iterable[Span], starts_at: datetime, ends_at: datetime, now: datetime
) -> int:
    """Return the seconds of presence inside the session's planned time."""
    total = 0.0
    for span in spans:
        start = max(span.joined_at, starts_at)
        end = min(span.left_at or now, ends_at)
        if end > start:
            total += (end - start).total_seconds()
    return int(total)


@dataclass(frozen=True)
class Summary:
    """What the spans of one person say about one session."""

    spans: list[Span]
    minutes_present: int
    first_joined_at: datetime | None
    last_left_at: datetime | None  # None when nobody came or someone is still in the room


def summarise(spans: list[Span], starts_at: datetime, ends_at: datetime, now: datetime) -> Summary:
    """Return minutes present (whole minutes inside the planned time) and first and last times."""
    return Summary(
        spans=spans,
        minutes_present=seconds_present(spans, starts_at, ends_at, now) // 60,
        first_joined_at=spans[0].joined_at if spans else None,
        last_left_at=spans[-1].left_at if spans else None,
    )


def derive_status(
    spans: list[Span],
    *,
    starts_at: datetime,
    ends_at: datetime,
    now: datetime,
    rules: Rules,
    absence_counts: bool = True,
) -> AttendanceStatus | None:
    """Return what the presence says once the session has ended; None before the end.

    Absent: no presence during the planned time (only when `absence_counts`: in person, a
    missing room presence proves nothing). Late: first joined more than the grace period after
    the start. Left early: last left more than `left_early` before the end. Exactly at either
    limit is still present.
    """
    if now < ends_at:
        return None
    during = [s for s in spans if s.joined_at < ends_at and (s.left_at or now) > starts_at]
    if not during:
        return AttendanceStatus.ABSENT if absence_counts else None
    if during[0].joined_at - starts_at > rules.grace:
        return AttendanceStatus.LATE
    last_left = during[-1].left_at
    if last_left is not None and ends_at - last_left > rules.left_early:
        return AttendanceStatus.LEFT_EARLY
    return AttendanceStatus.PRESENT


def attended(status: AttendanceStatus | None) -> bool:
    """Tell whether the status counts as having attended."""
    return status in ATTENDED
