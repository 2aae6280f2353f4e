"""Flood control for whiteboard connections: a token bucket and a disconnect policy.

Pure: callers pass the time (`time.monotonic()` in the handlers, made-up numbers in tests),
so nothing here sleeps or reads a clock.

The defaults fit a busy but honest client: a pen sends ~20 `stroke:live` batches a second
(60 points/s batched every 50 ms), the laser pointer ~20 `pointer` moves a second, plus
strokes, undos and redos, and a burst when a reconnecting client resends its outbox.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Verdict = Literal["ok", "refuse", "disconnect"]

# ~45 messages/s at most while drawing with the laser in the other hand; 60/s leaves room.
RATE_PER_SECOND = 60.0
# Two seconds of full speed: a reconnect resending a few dozen unacknowledged strokes.
BURST = 120.0
# Refusals in a row (forgiven slowly, see FloodGuard) before the connection is dropped.
DISCONNECT_AFTER = 60
FORGIVE_PER_SECOND = 2.0
# The longest server delay whose backlog is excused (see FloodGuard.excuse): a client may
# then send at most RATE_PER_SECOND × this many messages at once, beyond the burst.
MAX_EXCUSED_SECONDS = 30.0


@dataclass
class TokenBucket:
    """Allow `rate_per_second` events on average and up to `burst` at once.

    The bucket starts full. Each allowed event takes one token (or `cost`); tokens come back
    continuously at `rate_per_second` up to `burst`.
    """

    rate_per_second: float
    burst: float
    tokens: float = field(init=False)
    updated: float | None = field(init=False, default=None)
    # Room above the burst for a while (see raise_ceiling), so a backlog is not clipped.
    extra: float = field(init=False, default=0.0)
    extra_until: float = field(init=False, default=0.0)

    def __post_init__(self) -> None:
        if self.rate_per_second < 0 or self.burst <= 0:
            raise ValueError("the rate must be >= 0 and the burst > 0")
        self.tokens = self.burst

    def allow(self, now: float, cost: float = 1.0) -> bool:
        """Take `cost` tokens at time `now` (seconds) if there are enough; tell whether it did."""
        self._refill(now)
        # The tolerance keeps a client sending at exactly the rate from being refused when
        # the refills of float time steps add up to 0.9999999 of a token.
        if self.tokens >= cost - 1e-9:
            self.tokens = max(0.0, self.tokens - cost)
            return True
        return False

    def raise_ceiling(self, tokens: float, now: float, until: float, most: float) -> None:
        """Let the bucket hold up to `tokens` more than the burst until `until` (at most `most`).

        Refill still comes only with time at the rate: this only stops the burst from
        discarding what accrued while the caller could not take messages.
        """
        if now > self.extra_until:
            self.extra = 0.0
        self.extra = min(most, self.extra + tokens)
        self.extra_until = max(self.extra_until, until)

    def _refill(self, now: float) -> None:
        ceiling = self.burst
        if self.extra and now <= self.extra_until:
            ceiling += self.extra
        else:
            self.extra = 0.0
        if self.updated is not None:
            # A clock that steps back (it should not: use a monotonic one) refills nothing.
            elapsed = max(0.0, now - self.updated)
            self.tokens = min(ceiling, self.tokens + elapsed * self.rate_per_second)
        else:
            self.tokens = min(ceiling, self.tokens)
        if self.updated is None or now > self.updated:
            self.updated = now


class FloodGuard:
    """Decide, per message of one connection, whether to handle it, refuse it or disconnect.

    A refused message costs a strike; after `disconnect_after` strikes in a row, the next
    message over the rate disconnects. Strikes
    are forgiven at `forgive_per_second` rather than reset by the next allowed message:
    otherwise a flood at twice the rate, alternating allowed and refused messages, would
    never count as sustained. An honest client that bursts a little over the rate collects a
    few strikes that fade; once told to disconnect, the guard keeps saying so.
    """

    def __init__(
        self,
        rate_per_second: float = RATE_PER_SECOND,
        burst: float = BURST,
        disconnect_after: int = DISCONNECT_AFTER,
        forgive_per_second: float = FORGIVE_PER_SECOND,
    ) -> None:
        self.messages = TokenBucket(rate_per_second, burst)
        # Strikes take the tokens of a second bucket, which refills at the forgiving rate:
        # empty means too many refusals too close together.
        self.patience = TokenBucket(forgive_per_second, disconnect_after)
        self.disconnected = False

    def excuse(self, seconds: float, now: float) -> None:
        """Tell the guard the server did not read this connection for `seconds` until `now`.

        The time is counted when a message is handled, not when it arrived: while the server
        is stalled (a slow handler of this connection, or the whole process held up), an
        honest client's messages queue and then come in at once. The bucket refills with
        time as always; here its ceiling is raised by what accrued during the delay, for as
        long again as the delay (at least a second), so that backlog is not counted as a
        flood. A client idle for a long time gains nothing (no delay of ours is excused),
        and at most MAX_EXCUSED_SECONDS of backlog is ever excused.
        """
        if seconds <= 0:
            return
        seconds = min(seconds, MAX_EXCUSED_SECONDS)
        rate = self.messages.rate_per_second
        self.messages.raise_ceiling(
            seconds * rate, now, now + max(1.0, seconds), MAX_EXCUSED_SECONDS * rate
        )

    def check(self, now: float, cost: float = 1.0) -> Verdict:
        """Return "ok" to handle the message, "refuse" to answer an error, or "disconnect"."""
        if self.disconnected:
            return "disconnect"
        if self.messages.allow(now, cost):
            return "ok"
        if self.patience.allow(now):
            return "refuse"
        self.disconnected = True
        return "disconnect"


class StallMeter:
    """Count how long a process was held up: a ticker that should wake every `interval`.

    `tick(lateness)` is called by a background task with how late it woke; lateness beyond
    `tolerance` is time in which no connection of the process was read (the gevent hub or
    the interpreter was busy elsewhere). Shorter delays (a busy machine) are left to the
    burst, which absorbs their backlog anyway. Connections compare `total` with the value at
    their previous message and excuse the difference (FloodGuard.excuse).
    """

    def __init__(self, interval: float = 0.25, tolerance: float = 0.5) -> None:
        self.interval = interval
        self.tolerance = tolerance
        self.total = 0.0

    def tick(self, lateness: float) -> None:
        if lateness > self.tolerance:
            self.total += lateness
