"""Attendance: presence recorded from the room, intervals, statuses, review and exports."""
