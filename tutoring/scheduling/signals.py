"""Signals sent when sessions change, for features that react (reminders, attendance)."""

from __future__ import annotations

from blinker import Namespace

signals = Namespace()
# Each is sent after the change is flushed, with the acting user as sender and
# `sessions=[TutoringSession, ...]`. Receivers run in the same transaction: they may add
# rows (an outbox message) but must not commit.
sessions_booked = signals.signal("sessions-booked")
sessions_rescheduled = signals.signal("sessions-rescheduled")
sessions_cancelled = signals.signal("sessions-cancelled")
