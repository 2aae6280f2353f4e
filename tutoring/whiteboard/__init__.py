"""Whiteboard: the `/whiteboard` socket namespace, payload validation, flood control.

`schema` turns each client→server payload of CONTRACT.md into a typed value or raises
ValidationError naming the field; `flood` decides when a connection sends too much.
Both are pure: the socket handlers call them before touching the board store.
"""
