"""The room page in Chromium against a local stand-in Jitsi: options passed, phone layout, fallback."""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest
from joserfc import jwt
from joserfc.jwk import OctKey

from tests.browser.conftest import PHONE, check_accessibility, no_horizontal_scroll, screenshot
from tests.browser.jitsi_standin import JitsiStandIn
from tutoring.attendance.models import PresenceEvent, PresenceSource
from tutoring.database import utcnow
from tutoring.extensions import db
from tutoring.scheduling.models import TutoringSession

pytestmark = pytest.mark.browser
SECRET = "browser-test-secret-0123456789-abcdefghij"


@pytest.fixture(scope="module")
def standin(tmp_path_factory):
    with JitsiStandIn(tmp_path_factory.mktemp("jitsi")) as server:
        yield server


@pytest.fixture
def app_config(standin):
    return {"JITSI_DOMAIN": standin.domain, "JITSI_APP_ID": "manabi", "JITSI_APP_SECRET": SECRET}


@pytest.fixture
def open_session(book):
    return book(utcnow().replace(microsecond=0) - timedelta(minutes=5))[0]


def sign_in(page, base_url, account):
    page.goto(f"{base_url}/login")
    page.get_by_label("メールアドレスまたはログイン名").fill(account.email)
    page.get_by_label("パスワード").fill(account.password)
    page.get_by_role("button", name="サインイン").click()
    page.wait_for_url(f"{base_url}/")


def test_room_constructs_jitsi_with_room_token_name_and_language(
    app, live_server, new_page, program, open_session, standin
):
    page = new_page(ignore_https_errors=True)
    sign_in(page, live_server, program.tutor)
    page.goto(f"{live_server}/sessions/{open_session}/room")
    page.wait_for_function("() => window.jitsiStandIn !== undefined")
    recorded = page.evaluate("window.jitsiStandIn")
    with app.app_context():
        room_name = db.session.get(TutoringSession, open_session).room_name
    assert recorded["domain"] == standin.domain
    assert recorded["parentIsElement"] is True
    options = recorded["options"]
    assert options["roomName"] == room_name
    assert options["userInfo"] == {"displayName": "鈴木 健一"}
    assert options["lang"] == "ja"
    assert options["configOverwrite"]["disableDeepLinking"] is True
    assert options["configOverwrite"]["prejoinConfig"] == {"enabled": False}
    claims = jwt.decode(options["jwt"], OctKey.import_key(SECRET)).claims
    assert claims["room"] == room_name
    assert claims["context"]["user"]["moderator"] is True
    check_accessibility(page)
    screenshot(page, "room-tutor-desktop-ja")

    page.evaluate("window.jitsiStandIn.api.fire('videoConferenceJoined')")
    page.wait_for_timeout(500)
    with app.app_context():
        video = db.session.query(PresenceEvent).filter_by(source=PresenceSource.VIDEO)
        events = [(e.user_id, e.kind.value) for e in video]
    assert events == [(program.tutor.id, "joined")]


def test_learner_on_a_phone_switches_between_video_and_whiteboard(
    live_server, new_page, program, open_session
):
    page = new_page(viewport=PHONE, is_mobile=True, has_touch=True, ignore_https_errors=True)
    sign_in(page, live_server, program.learner)
    page.goto(f"{live_server}/sessions/{open_session}/room")
    page.wait_for_function("() => window.jitsiStandIn !== undefined")
    options = page.evaluate("window.jitsiStandIn.options")
    assert (
        "moderator"
        not in jwt.decode(options["jwt"], OctKey.import_key(SECRET)).claims["context"]["user"]
    )
    video, board = page.locator("#video-panel"), page.locator("#board-panel")
    assert video.bounding_box()["width"] > 300
    assert not board.is_visible()
    check_accessibility(page)
    screenshot(page, "room-learner-phone-video")

    page.get_by_role("button", name="ホワイトボード").tap()
    assert board.is_visible()
    assert board.bounding_box()["width"] > 300
    tile = video.bounding_box()
    assert tile["width"] < 200
    assert tile["height"] < 150
    assert page.get_by_role("button", name="ホワイトボード").get_attribute("aria-pressed") == "true"
    assert no_horizontal_scroll(page)
    screenshot(page, "room-learner-phone-board")

    page.get_by_role("button", name="ビデオ").tap()
    assert not board.is_visible()
    assert video.bounding_box()["width"] > 300


@pytest.fixture
def unreachable_domain():
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"127.0.0.1:{port}"


@pytest.mark.parametrize("app_config", [{"JITSI_LOAD_TIMEOUT": 5}], indirect=False)
def test_unreachable_video_shows_the_fallback(
    app, live_server, new_page, program, open_session, unreachable_domain
):
    app.config["JITSI_DOMAIN"] = unreachable_domain
    page = new_page(viewport=PHONE, is_mobile=True)
    sign_in(page, live_server, program.learner)
    page.goto(f"{live_server}/sessions/{open_session}/room")
    fallback = page.get_by_role("alert")
    fallback.wait_for()
    assert "ビデオを読み込めませんでした。" in fallback.inner_text()
    link = page.get_by_role("link", name="ビデオを新しいタブで開く")
    assert link.get_attribute("href").startswith(f"https://{unreachable_domain}/")
    check_accessibility(page)
    screenshot(page, "room-video-fallback-phone")
