"""Entry point for `flask --app wsgi …` and WSGI servers."""

import gc

from tutoring import create_app, warm_up_when_serving
from tutoring.extensions import socketio  # noqa: F401  (servers look it up here)

app = create_app()
# The start-up heap is large and lives as long as the process: keeping it out of the
# collector turns ~100 ms collection stalls into ~10 ms (docs/benchmarks.md).
gc.collect()
gc.freeze()
warm_up_when_serving(app)
