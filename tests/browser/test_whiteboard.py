"""Drawing together in Chromium: a tutor with a mouse on a laptop, a learner with touch on a phone."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.browser.conftest import PHONE, check_accessibility, no_horizontal_scroll, screenshot
from tutoring.database import utcnow
from tutoring.extensions import db
from tutoring.whiteboard.models import BoardItem

pytestmark = pytest.mark.browser

INK = """() => {
  const canvas = document.querySelector('[data-whiteboard] canvas.wb-ink');
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let painted = 0;
  for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted += 1;
  return painted;
}"""


@pytest.fixture
def app_config(tmp_path):
    # No video server in this test: the page's fallback is enough, the whiteboard is the point.
    return {"JITSI_DOMAIN": "127.0.0.1:9", "JITSI_LOAD_TIMEOUT": 1}


@pytest.fixture
def open_session(book):
    return book(utcnow().replace(microsecond=0) - timedelta(minutes=5))[0]


def sign_in(page, base_url, account):
    page.goto(f"{base_url}/login")
    page.get_by_label("メールアドレスまたはログイン名").fill(account.email)
    page.get_by_label("パスワード").fill(account.password)
    page.get_by_role("button", name="サインイン").click()
    page.wait_for_url(f"{base_url}/")


def board(page):
    return page.locator("[data-whiteboard]")


def wait_connected(page):
    page.wait_for_function(
        "() => document.querySelector('[data-whiteboard]')?.dataset.connection === 'connected'"
    )


def shown(page) -> list[str]:
    return (board(page).get_attribute("data-shown") or "").split()


def wait_shown(page, count: int):
    page.wait_for_function(
        f"() => (document.querySelector('[data-whiteboard]').dataset.shown || '').split(' ').filter(Boolean).length >= {count}",
        timeout=10_000,
    )


def touch_stroke(page, cdp, start, end, steps=12):
    """Draw with a finger: real touch events through the DevTools protocol."""
    (x0, y0), (x1, y1) = start, end
    cdp.send(
        "Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x0, "y": y0}]}
    )
    for n in range(1, steps + 1):
        x, y = x0 + (x1 - x0) * n / steps, y0 + (y1 - y0) * n / steps
        cdp.send(
            "Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]}
        )
        page.wait_for_timeout(15)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def canvas_box(page):
    return page.locator("[data-whiteboard] canvas.wb-overlay").bounding_box()


def test_tutor_and_learner_draw_together_and_survive_going_offline(
    app, live_server, new_page, program, open_session
):
    tutor = new_page()
    sign_in(tutor, live_server, program.tutor)
    sockets: list[str] = []
    tutor.on("websocket", lambda socket: sockets.append(socket.url))
    tutor.goto(f"{live_server}/sessions/{open_session}/room")
    wait_connected(tutor)
    # The board is in the handshake, for the proxy to hash on (deploy/nginx.conf).
    handshake = re.compile(rf"/socket\.io/\?(.+&)?board={open_session}(&|$)")
    assert any(handshake.search(url) for url in sockets), sockets

    learner = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    sign_in(learner, live_server, program.learner)
    learner.goto(f"{live_server}/sessions/{open_session}/room")
    learner.get_by_role("button", name="ホワイトボード").tap()
    wait_connected(learner)
    assert learner.evaluate(INK) == 0

    # The tutor draws with the mouse; the learner's canvas changes.
    box = canvas_box(tutor)
    tutor.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.3)
    tutor.mouse.down()
    tutor.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.5, steps=15)
    tutor.mouse.up()
    wait_shown(learner, 1)
    learner.wait_for_function(f"() => ({INK})() > 0")
    check_accessibility(learner)
    screenshot(learner, "whiteboard-learner-phone")

    # The learner draws with a finger; the tutor sees it.
    cdp = learner.context.new_cdp_session(learner)
    box = canvas_box(learner)
    touch_stroke(learner, cdp, (box["x"] + 60, box["y"] + 200), (box["x"] + 250, box["y"] + 320))
    wait_shown(tutor, 2)
    assert shown(tutor) == shown(learner)

    # Offline: the learner keeps drawing; back online, nothing is lost or doubled.
    learner.context.set_offline(True)
    learner.wait_for_function(
        "() => document.querySelector('[data-whiteboard]').dataset.connection !== 'connected'",
        timeout=60_000,
    )
    touch_stroke(learner, cdp, (box["x"] + 80, box["y"] + 240), (box["x"] + 300, box["y"] + 260))
    assert len(shown(learner)) == 3  # drawn locally, waiting in the outbox
    assert len(shown(tutor)) == 2
    learner.context.set_offline(False)
    wait_connected(learner)
    wait_shown(tutor, 3)
    assert shown(tutor) == shown(learner)
    assert no_horizontal_scroll(learner)
    with app.app_context():
        strokes = (
            db.session.query(BoardItem).filter_by(session_id=open_session, type="stroke").count()
        )
    assert strokes == 3
    screenshot(tutor, "whiteboard-tutor-desktop")
    screenshot(learner, "whiteboard-learner-phone-after-offline")


def test_learner_reads_last_weeks_board_on_a_phone(app, live_server, new_page, program, book):
    from tutoring.people.models import User
    from tutoring.scheduling.models import TutoringSession
    from tutoring.whiteboard import service
    from tutoring.whiteboard.schema import parse_stroke

    [last_week] = book(utcnow().replace(microsecond=0) - timedelta(days=7))
    with app.app_context():
        session, tutor = (
            db.session.get(TutoringSession, last_week),
            db.session.get(User, program.tutor.id),
        )
        stroke = {
            "id": "s1",
            "page": 0,
            "tool": "pen",
            "color": "#1f4fbf",
            "width": 4,
            "points": [[200, 200], [900, 600]],
        }
        service.add_stroke(session.id, tutor.id, parse_stroke(stroke))
        db.session.commit()
    page = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    sign_in(page, live_server, program.learner)
    page.goto(f"{live_server}/sessions/{last_week}/board")
    page.wait_for_function(
        "() => document.querySelector('[data-whiteboard]')?.dataset.connection === 'archived'"
    )
    page.wait_for_function(f"() => ({INK})() > 0")
    assert shown(page) == ["s1"]
    assert page.get_by_role("button", name="ペン").count() == 0  # nothing to draw with
    assert no_horizontal_scroll(page)
    check_accessibility(page)
    screenshot(page, "earlier-board-phone")
