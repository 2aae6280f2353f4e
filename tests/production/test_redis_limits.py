"""Rate-limit counters in Redis are named after the deployment's channel."""

from __future__ import annotations

import uuid

import pytest

from tests.auth.test_login import sign_in
from tests.production.conftest import require_redis

REDIS_URL = "redis://127.0.0.1:6379/15"
CHANNEL = f"test-{uuid.uuid4().hex[:12]}"

pytestmark = pytest.mark.redis


@pytest.fixture
def app_config():
    require_redis()
    return {"RATELIMIT_STORAGE_URI": REDIS_URL, "REDIS_CHANNEL": CHANNEL}


def test_sign_in_failures_are_counted_under_the_channel(app, make_user):
    import redis

    learner = make_user("learner")
    assert sign_in(app.test_client(), learner.email, "wrong").status_code == 401
    client = redis.Redis.from_url(REDIS_URL)
    try:
        keys = client.keys(f"{CHANNEL}:*")
        assert keys, "no rate-limit counter under the channel"
        client.delete(*keys)
    finally:
        client.close()
