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

    def _refill(self, now: float) -> None:
        if self.updated is not None:
            # A clock that steps back (it should not: use a monotonic one) refills nothing.
            elapsed = max(0.0, now - self.updated)
            self.tokens = min(self.burst, self.tokens + elapsed * self.rate_per_second)
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
