"""Scheduling: venues, one-on-one sessions, weekly series, calendars and iCalendar feeds."""
