"""Flask extensions, created unbound here and initialised in the app factory."""

from __future__ import annotations

from authlib.integrations.flask_client import OAuth
from flask import request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from tutoring.database import Base, render_migration_item


def client_address() -> str:
    """Return the client address used as a rate-limit key."""
    return request.remote_addr or "unknown"


db = SQLAlchemy(model_class=Base)
migrate = Migrate(render_as_batch=True, compare_type=True, render_item=render_migration_item)
socketio = SocketIO()
login_manager = LoginManager()
oauth = OAuth()
babel = Babel()
csrf = CSRFProtect()
limiter = Limiter(key_func=client_address)
