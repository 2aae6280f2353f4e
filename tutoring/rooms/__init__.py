"""Rooms: the session's video room page, its join window and Jitsi access tokens."""
