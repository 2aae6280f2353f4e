"""Reminders and follow-up: preferences, an outbox worked by a scheduler, e-mail, LINE, Web Push."""
