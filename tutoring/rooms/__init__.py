"""Rooms: the room page, the join window, Jitsi configuration and room tokens."""
