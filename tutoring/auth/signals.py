"""Signals other features listen to, so auth does not need to know them."""

from __future__ import annotations

from blinker import Namespace

signals = Namespace()
# Sent with the user's id when their sign-in sessions end: sign-out, sign-out everywhere,
# a password change elsewhere, or a disabled account.
sessions_ended = signals.signal("sessions-ended")
# Sent with the user when an external identity is linked to their account, with
# provider=<configured name>, preset=<"line", "google" or None> and subject=<the provider's id>.
identity_linked = signals.signal("identity-linked")
