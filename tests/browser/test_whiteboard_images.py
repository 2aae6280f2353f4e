"""Photos and snapshots in Chromium: a learner's phone adds a photo, the tutor sees it and keeps a snapshot."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image

from tests.browser.conftest import PHONE, check_accessibility, screenshot
from tests.whiteboard.test_images_unit import gps_exif
from tutoring.database import utcnow
from tutoring.extensions import db
from tutoring.whiteboard.models import BoardItem, BoardSnapshot, ItemType

pytestmark = pytest.mark.browser

# The canvas pixel at the middle of the page, where a centred photo lands.
CENTRE_PIXEL = """() => {
  const canvas = document.querySelector('.wb-ink');
  const ctx = canvas.getContext('2d');
  return Array.from(ctx.getImageData(canvas.width / 2, canvas.height / 2, 1, 1).data);
}"""


@pytest.fixture
def app_config():
    # No video service in these tests: the room falls back at once, the whiteboard works.
    return {"JITSI_DOMAIN": "127.0.0.1:9", "JITSI_LOAD_TIMEOUT": 1}


@pytest.fixture
def open_session(book):
    return book(utcnow().replace(microsecond=0) - timedelta(minutes=5))[0]


def sign_in(page, base_url, account):
    page.goto(f"{base_url}/login")
    page.get_by_label("E-mail or login name").fill(account.email)
    page.get_by_label("Password").fill(account.password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base_url}/")


def red_photo(tmp_path: Path) -> Path:
    """A phone photo: red, stored on its side with EXIF orientation 6 and GPS."""
    path = tmp_path / "worksheet.jpg"
    Image.new("RGB", (800, 600), (220, 20, 20)).save(path, "JPEG", exif=gps_exif(orientation=6))
    return path


def test_learner_adds_a_photo_and_the_tutor_keeps_a_snapshot(
    app, live_server, new_page, program, open_session, tmp_path
):
    tutor = new_page(locale="en-US")
    sign_in(tutor, live_server, program.tutor)
    tutor.goto(f"{live_server}/sessions/{open_session}/room")
    tutor.get_by_text("Whiteboard connected.").wait_for()

    learner = new_page(viewport=PHONE, is_mobile=True, has_touch=True, locale="en-US")
    sign_in(learner, live_server, program.learner)
    learner.goto(f"{live_server}/sessions/{open_session}/room")
    learner.get_by_role("button", name="Whiteboard", exact=True).tap()
    photo = learner.get_by_role("button", name="Add a photo")
    box = photo.bounding_box()
    assert box["width"] >= 44
    assert box["height"] >= 44
    with learner.expect_file_chooser() as chooser:
        photo.tap()
    assert chooser.value.is_multiple() is False
    chooser.value.set_files(red_photo(tmp_path))
    learner.get_by_text("Photo added.").wait_for()
    check_accessibility(learner)
    screenshot(learner, "whiteboard-photo-learner-phone")

    with app.app_context():
        [item] = db.session.query(BoardItem).all()
        assert item.type is ItemType.IMAGE
        assert item.author_id == program.learner.id
        assert (item.data["w"], item.data["h"]) == (750, 1000)  # upright: portrait

    # The tutor's board got the `image` broadcast and draws the photo in the middle.
    tutor.wait_for_function(f"({CENTRE_PIXEL})()[0] > 180")
    red, green, blue, _alpha = tutor.evaluate(CENTRE_PIXEL)
    assert green < 80
    assert blue < 80

    tutor.get_by_role("button", name="Save a snapshot of this page").click()
    tutor.get_by_text("Snapshot saved.").wait_for()
    assert learner.get_by_role("button", name="Save a snapshot of this page").count() == 0
    with app.app_context():
        [snapshot] = db.session.query(BoardSnapshot).all()
        assert snapshot.author_id == program.tutor.id
        path = Path(app.instance_path) / "whiteboard" / str(open_session) / snapshot.stored_name
    with Image.open(path) as png:
        assert png.format == "PNG"
        assert png.size == (1600, 1000)
        centre = png.convert("RGB").getpixel((800, 500))
    assert centre[0] > 180  # the photo is in the snapshot (same origin: the canvas is clean)
    assert centre[1] < 80
    screenshot(tutor, "whiteboard-photo-tutor-desktop")


def test_a_file_that_is_not_a_picture_is_explained(
    live_server, new_page, program, open_session, tmp_path
):
    page = new_page(locale="en-US")
    sign_in(page, live_server, program.tutor)
    page.goto(f"{live_server}/sessions/{open_session}/room")
    page.get_by_text("Whiteboard connected.").wait_for()
    fake = tmp_path / "homework.jpg"
    fake.write_text("not a photo at all")
    with page.expect_file_chooser() as chooser:
        page.get_by_role("button", name="Add a photo").click()
    chooser.value.set_files(fake)
    banner = page.locator(".wb-banner")
    banner.get_by_text("The photo could not be added.").wait_for()
    assert "Choose a PNG or JPEG picture." in banner.inner_text()
    assert page.get_by_role("button", name="Add a photo").is_enabled()
