"""With TUTORING_REDIS_URL set, sign-in limits live in Redis and hold across processes."""

from __future__ import annotations

import uuid

import pytest

from tests.auth.test_login import sign_in
from tests.conftest import BASE_CONFIG, service_missing
from tutoring import create_app

REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture
def redis_url():
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        service_missing("Redis is not reachable at 127.0.0.1:6379")
    yield REDIS_URL
    client.flushdb()
    client.close()


@pytest.fixture
def app_config(redis_url):
    # Only the limiter uses Redis here: REDIS_URL would also start the Socket.IO queue listener.
    return {
        "RATELIMIT_STORAGE_URI": redis_url,
        # A fresh key space per test, so earlier runs leave no counts behind.
        "RATELIMIT_KEY_PREFIX": uuid.uuid4().hex,
        "LOGIN_LIMIT_PER_ACCOUNT": "2 per 15 minutes",
    }


@pytest.mark.redis
def test_failures_counted_by_one_app_limit_a_new_one(app, make_user, redis_url, tmp_path):
    import redis

    learner = make_user("learner")
    client = app.test_client()
    assert sign_in(client, learner.email, "wrong").status_code == 401
    assert sign_in(client, learner.email, "wrong").status_code == 401
    prefix = app.config["RATELIMIT_KEY_PREFIX"]
    assert redis.Redis.from_url(redis_url).keys(f"*{prefix}*")
    # A new app (as another server process would be) starts with a new storage client:
    # only counts kept in Redis can refuse this attempt.
    restarted = create_app(
        {
            **BASE_CONFIG,
            "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
            **{
                k: app.config[k]
                for k in (
                    "REDIS_URL",
                    "RATELIMIT_STORAGE_URI",
                    "RATELIMIT_KEY_PREFIX",
                    "LOGIN_LIMIT_PER_ACCOUNT",
                )
            },
        },
        instance_path=str(tmp_path / "other"),
    )
    assert sign_in(restarted.test_client(), learner.email, "wrong").status_code == 429


@pytest.mark.parametrize(
    ("redis_url", "storage"),
    [("redis://cache:6379/0", "redis://cache:6379/0"), (None, "memory://")],
)
def test_redis_url_becomes_the_limit_storage(tmp_path, redis_url, storage):
    from flask import Flask

    from tutoring import _finish_config
    from tutoring import config as defaults

    app = Flask("probe", instance_path=str(tmp_path))
    app.config.from_object(defaults)
    app.config.update(SECRET_KEY="x", REDIS_URL=redis_url)
    _finish_config(app)
    assert app.config["RATELIMIT_STORAGE_URI"] == storage
