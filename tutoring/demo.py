"""The demo program loaded by `flask --app wsgi demo`: a believable small program.

Each feature adds its part in a function called from load_demo; every part is idempotent.
"""

from __future__ import annotations

from sqlalchemy import select

from tutoring.auth import passwords
from tutoring.extensions import db
from tutoring.people.models import Role, User

DEMO_PASSWORD = "manabi-demo-2026"  # noqa: S105 (printed by the demo command)

DEMO_PEOPLE = [
    ("coordinator@example.org", "佐藤 恵美", Role.COORDINATOR),
    ("admin@example.org", "管理者 太郎", Role.ADMIN),
    ("tutor1@example.org", "鈴木 健一", Role.TUTOR),
    ("tutor2@example.org", "高橋 美咲", Role.TUTOR),
    ("learner1@example.org", "田中 陽向", Role.LEARNER),
    ("learner2@example.org", "伊藤 蓮", Role.LEARNER),
    ("learner3@example.org", "渡辺 結衣", Role.LEARNER),
    ("learner4@example.org", "山本 湊", Role.LEARNER),
]


def _people() -> list[User]:
    users = []
    for email, name, role in DEMO_PEOPLE:
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None:
            user = User(email=email, name=name, role=role)
            user.password_hash = passwords.hash_password(DEMO_PASSWORD)
            db.session.add(user)
        users.append(user)
    db.session.flush()
    return users


def database_is_empty() -> bool:
    """Tell whether no account exists yet."""
    return db.session.scalar(select(User.id).limit(1)) is None


def demo_accounts() -> list[User]:
    """Return the demo accounts that exist."""
    emails = [email for email, _name, _role in DEMO_PEOPLE]
    found = {u.email: u for u in db.session.scalars(select(User).where(User.email.in_(emails)))}
    return [found[e] for e in emails if e in found]


def load_demo() -> list[User]:
    """Create whatever of the demo program is missing; return the demo accounts."""
    return _people()
