"""Two deployments on one Redis keep their rooms apart (TUTORING_REDIS_CHANNEL)."""

from __future__ import annotations

import time
import uuid

import pytest

from tests.production.conftest import REDIS_URL, require_redis
from tests.whiteboard.conftest import BoardClient, stroke_payload
from tutoring import create_app, redis_channel


def test_processes_on_different_channels_do_not_see_each_others_broadcasts(
    server_processes, program, make_token, open_session
):
    require_redis()
    # Both on the same Redis database and the same board (session id): only the channel differs.
    channel = f"test-{uuid.uuid4().hex[:8]}"
    first = server_processes(TUTORING_REDIS_URL=REDIS_URL, TUTORING_REDIS_CHANNEL=channel + "-a")
    second = server_processes(TUTORING_REDIS_URL=REDIS_URL, TUTORING_REDIS_CHANNEL=channel + "-b")
    # A third process on the first's channel proves the broadcast did go out.
    third = server_processes(TUTORING_REDIS_URL=REDIS_URL, TUTORING_REDIS_CHANNEL=channel + "-a")
    tutor = BoardClient(first.url, token=make_token(program.tutor))
    other = BoardClient(second.url, token=make_token(program.learner))
    same = BoardClient(third.url, token=make_token(program.learner))
    try:
        for client in (tutor, other, same):
            assert client.call("join", {"session_id": open_session})["ok"]
        assert tutor.call("stroke", stroke_payload("mine")) == {"ok": True, "seq": 1}
        assert [s["id"] for s in same.wait_for("stroke", timeout=10)] == ["mine"]
        live = {"id": "l", "page": 0, "tool": "pen", "color": "#000000", "width": 1}
        tutor.emit("stroke:live", {**live, "points": [[1, 1]]})
        same.wait_for("stroke:live", timeout=10)
        time.sleep(0.5)  # what the other channel would have relayed has had time to arrive
        assert other.received["stroke"] == []
        assert other.received["stroke:live"] == []
    finally:
        for client in (tutor, other, same):
            client.close()


def test_the_default_channel_follows_the_database():
    one = redis_channel("postgresql+psycopg://manabi:secret@db:5432/tama")
    assert one == redis_channel("postgresql+psycopg://manabi:rotated@db:5432/tama")
    assert one != redis_channel("postgresql+psycopg://manabi:secret@db:5432/machida")
    assert one != redis_channel("postgresql+psycopg://manabi:secret@db-staging:5432/tama")
    assert one.startswith("manabi-")
    assert "secret" not in one


@pytest.mark.parametrize("channel", [None, "tama-city"])
def test_the_channel_is_set_for_every_app(tmp_path, channel):
    config = {
        "TESTING": True,
        "SECRET_KEY": "k",
        "DATABASE_URL": "postgresql+psycopg://manabi@db/tama",
        "REDIS_CHANNEL": channel,
        "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:6379/15",
    }
    app = create_app(config, instance_path=str(tmp_path))
    expected = channel or redis_channel("postgresql+psycopg://manabi@db/tama")
    assert app.config["REDIS_CHANNEL"] == expected
    assert app.config["RATELIMIT_STORAGE_OPTIONS"]["key_prefix"] == expected
