"""Flood control: the token bucket's rate and burst, and when a connection is dropped."""

from __future__ import annotations

import pytest

from tutoring.whiteboard.flood import MAX_EXCUSED_SECONDS, FloodGuard, StallMeter, TokenBucket


def allowed(bucket: TokenBucket, times) -> int:
    return sum(bucket.allow(t) for t in times)


def test_bucket_starts_full_and_respects_the_burst():
    bucket = TokenBucket(rate_per_second=10, burst=5)
    assert allowed(bucket, [0.0] * 8) == 5


def test_bucket_refills_at_its_rate():
    bucket = TokenBucket(rate_per_second=10, burst=5)
    assert allowed(bucket, [0.0] * 5) == 5
    assert not bucket.allow(0.05)  # half a token back
    assert bucket.allow(0.1)  # one token after 0.1 s
    assert not bucket.allow(0.1)
    # A long pause refills only up to the burst.
    assert allowed(bucket, [100.0] * 8) == 5


def test_bucket_allows_the_rate_over_time():
    bucket = TokenBucket(rate_per_second=20, burst=1)
    # 100 messages a second for 10 s: about 20 a second get through.
    times = [i / 100 for i in range(1000)]
    assert 195 <= allowed(bucket, times) <= 202


def test_bucket_cost_and_clock_going_back():
    bucket = TokenBucket(rate_per_second=1, burst=3)
    assert bucket.allow(10.0, cost=3)
    assert not bucket.allow(5.0)  # an earlier time refills nothing
    assert bucket.allow(11.0)


def test_bucket_rejects_nonsense_settings():
    with pytest.raises(ValueError, match="rate"):
        TokenBucket(rate_per_second=-1, burst=1)
    with pytest.raises(ValueError, match="rate"):
        TokenBucket(rate_per_second=1, burst=0)


def test_guard_lets_a_busy_honest_client_through():
    """60 points/s as 20 live batches/s, the laser at 20/s and a stroke and an undo a second."""
    guard = FloodGuard()
    events = []
    for second in range(120):
        events += [second + i / 20 for i in range(20)]  # stroke:live
        events += [second + i / 20 + 0.01 for i in range(20)]  # pointer
        events += [second + 0.5, second + 0.7]  # stroke, undo
    assert {guard.check(t) for t in sorted(events)} == {"ok"}


def test_guard_tolerates_a_reconnect_burst():
    guard = FloodGuard()
    # A reconnect resends 100 outboxed strokes at once, then drawing goes on.
    assert {guard.check(0.0) for _ in range(100)} == {"ok"}
    assert {guard.check(1 + i / 20) for i in range(100)} == {"ok"}


def test_guard_refuses_then_disconnects_a_sustained_flood():
    guard = FloodGuard(rate_per_second=10, burst=10, disconnect_after=5, forgive_per_second=1)
    verdicts = [guard.check(0.0) for _ in range(16)]
    assert verdicts == ["ok"] * 10 + ["refuse"] * 5 + ["disconnect"]
    # Once disconnected, always disconnected, even after a pause.
    assert guard.check(100.0) == "disconnect"


def test_guard_disconnects_a_flood_that_is_sometimes_allowed():
    """Allowed messages in between do not reset the strikes of a flood at twice the rate."""
    guard = FloodGuard()
    verdicts = [guard.check(i / 120) for i in range(120 * 30)]
    assert "disconnect" in verdicts
    first = verdicts.index("disconnect")
    assert first < 120 * 5  # within a few seconds of flooding at 120 messages/s
    assert set(verdicts[first:]) == {"disconnect"}


def test_guard_forgives_occasional_refusals():
    guard = FloodGuard(rate_per_second=10, burst=10, disconnect_after=5, forgive_per_second=1)
    now = 0.0
    for _ in range(20):
        # A burst a little over the burst size, then a quiet moment: refused, never dropped.
        verdicts = [guard.check(now) for _ in range(12)]
        assert verdicts.count("refuse") == 2
        now += 3.0
    assert guard.check(now) == "ok"


# Messages are counted when they are handled. When the server falls behind, an honest
# client's messages queue and are handled at once; `excuse` keeps that from looking like a
# flood, without letting a real flood through.


def replay_backlog(guard: FloodGuard, *, rate: float, stall: float, excuse: bool) -> list[str]:
    """A client sends `rate` messages a second; the server reads nothing for `stall` seconds."""
    verdicts = [guard.check(i / rate) for i in range(int(rate * 5))]  # 5 s in step
    resumed = 5.0 + stall
    if excuse:
        guard.excuse(stall, resumed)
    backlog = int(rate * stall)
    verdicts += [guard.check(resumed + i * 1e-4) for i in range(backlog)]
    # Then on as before.
    verdicts += [guard.check(resumed + 0.1 + i / rate) for i in range(int(rate * 5))]
    return verdicts


def test_a_backlog_after_a_server_stall_is_not_a_flood():
    verdicts = replay_backlog(FloodGuard(), rate=40, stall=12, excuse=True)
    assert set(verdicts) == {"ok"}


def test_without_the_excuse_the_same_backlog_was_refused():
    # What happened before: 480 queued messages against a burst of 120.
    verdicts = replay_backlog(FloodGuard(), rate=40, stall=12, excuse=False)
    assert "refuse" in verdicts or "disconnect" in verdicts


def test_an_excused_stall_still_stops_a_flood():
    guard = FloodGuard()
    assert guard.check(0.0) == "ok"
    guard.excuse(10, 10.0)  # the server was held up for 10 s
    verdicts = [guard.check(10.0 + i * 1e-6) for i in range(5000)]
    # What 10 s at the rate allows on top of the burst, not more; then the disconnect.
    assert 719 <= verdicts.count("ok") <= 720
    assert verdicts[-1] == "disconnect"


def test_an_excuse_does_not_outlast_the_backlog():
    guard = FloodGuard()
    assert guard.check(0.0) == "ok"
    guard.excuse(10, 10.0)
    # Nobody used it; a minute later a burst is the ordinary burst again.
    verdicts = [guard.check(70.0 + i * 1e-6) for i in range(400)]
    assert verdicts.count("ok") == 120


def test_excuses_are_bounded():
    guard = FloodGuard()
    assert guard.check(0.0) == "ok"
    for n in range(3):
        guard.excuse(3600, 3600.0 + n)  # hours: at most MAX_EXCUSED_SECONDS count
    verdicts = [guard.check(3602.0 + i * 1e-6) for i in range(6000)]
    assert verdicts.count("ok") == 120 + int(MAX_EXCUSED_SECONDS * 60)


def test_stall_meter_counts_only_real_lateness():
    meter = StallMeter(interval=0.25, tolerance=0.05)
    for lateness in (0.001, 0.04, -0.01):
        meter.tick(lateness)
    assert meter.total == 0
    meter.tick(2.5)
    meter.tick(0.5)
    assert meter.total == 3.0
