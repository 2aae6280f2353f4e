"""Entry point for `flask --app wsgi …` and WSGI servers."""

from tutoring import create_app
from tutoring.extensions import socketio  # noqa: F401  (servers look it up here)

app = create_app()
