"""Photos and snapshots on the board over HTTP: permissions, checks, storage, broadcast."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from tests.conftest import bearer, csrf_token
from tests.whiteboard.test_images_unit import GPS_IFD, gps_exif, jpeg, png, with_declared_size
from tutoring.database import utcnow
from tutoring.extensions import db
from tutoring.whiteboard.models import BoardItem, BoardSnapshot, ItemType


@pytest.fixture
def tokens(program, make_token):
    return {
        n: make_token(getattr(program, n))
        for n in ("coordinator", "tutor", "other_tutor", "learner", "other_learner")
    }


def images_url(session_id: int) -> str:
    return f"/api/v1/sessions/{session_id}/board/images"


def snapshots_url(session_id: int) -> str:
    return f"/api/v1/sessions/{session_id}/board/snapshots"


def post_form(client, url: str, form: dict, headers: dict | None = None):
    """POST multipart, encoded in memory (the test client spools big bodies to unclosed files)."""
    boundary, body = encode_multipart(form)
    return client.post(
        url,
        data=body,
        content_type=f"multipart/form-data; boundary={boundary}",
        headers=headers or {},
    )


def upload(client, session_id, token, data: bytes | None = None, **fields):
    form = {key: str(value) for key, value in {"page": 0, **fields}.items() if value is not None}
    if data is not None:
        form["image"] = FileStorage(io.BytesIO(data), filename="photo.jpg")
    return post_form(client, images_url(session_id), form, bearer(token))


def upload_snapshot(client, session_id, token, data: bytes | None = None, page=0):
    form = {"page": str(page)}
    if data is not None:
        form["snapshot"] = FileStorage(io.BytesIO(data), filename="page.png")
    return post_form(client, snapshots_url(session_id), form, bearer(token))


def assert_error(response, status: int, code: str, field: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    error = response.json["error"]
    assert error["code"] == code
    assert error["message"]
    if field is not None:
        assert error["field"] == field
    return error


def stored_files(app, session_id: int) -> list[Path]:
    folder = Path(app.instance_path) / "whiteboard" / str(session_id)
    return sorted(folder.iterdir()) if folder.exists() else []


def items(app) -> list[BoardItem]:
    with app.app_context():
        return list(db.session.query(BoardItem).order_by(BoardItem.seq))


def fetch(browser, src: str):
    """GET a picture, reading the whole file so that send_file's handle is closed."""
    return browser.get(src, buffered=True)


def opened(path: Path) -> Image.Image:
    with Image.open(path) as image:
        image.load()
        return image


def signed_in(app, login_as, account):
    browser = app.test_client()
    login_as(account, browser)
    return browser


# Upload, storage, item


def test_upload_places_the_photo_centred_and_stores_it(app, client, program, tokens, open_session):
    response = upload(client, open_session, tokens["learner"], jpeg((2000, 1000)), page=2, id="p1")
    assert response.status_code == 201
    item = response.json
    assert item["seq"] == 1
    assert item["type"] == "image"
    assert item["id"] == "p1"
    assert item["page"] == 2
    assert item["author_id"] == program.learner.id
    assert (item["x"], item["y"], item["w"], item["h"]) == (0, 100, 1600, 800)
    [path] = stored_files(app, open_session)
    assert item["src"] == f"/whiteboard/images/{open_session}/{path.name}"
    assert "photo" not in path.name  # never the name the user sent
    [row] = items(app)
    assert row.type is ItemType.IMAGE
    assert row.stroke_id == "p1"


def test_stored_and_served_photo_has_no_exif_or_gps(
    app, client, login_as, program, tokens, open_session
):
    source = jpeg((640, 480), exif=gps_exif(), comment=b"home address")
    item = upload(client, open_session, tokens["learner"], source).json
    [path] = stored_files(app, open_session)
    on_disk = opened(path)
    assert on_disk.getexif().get_ifd(GPS_IFD) == {}
    assert dict(on_disk.getexif()) == {}
    browser = signed_in(app, login_as, program.tutor)
    served = fetch(browser, item["src"])
    assert served.status_code == 200
    assert served.data == path.read_bytes()
    assert b"Exif" not in served.data
    assert b"home address" not in served.data
    assert Image.open(io.BytesIO(served.data)).getexif().get_ifd(GPS_IFD) == {}


def test_a_rotated_phone_photo_comes_back_upright(app, client, tokens, open_session):
    item = upload(client, open_session, tokens["learner"], jpeg((400, 300), exif=gps_exif(6))).json
    [path] = stored_files(app, open_session)
    assert opened(path).size == (300, 400)
    # Portrait on the landscape page: full height, centred across.
    assert (item["w"], item["h"]) == (750, 1000)
    assert item["x"] == 425


def test_a_huge_photo_is_scaled_down(app, client, tokens, open_session):
    upload(client, open_session, tokens["tutor"], jpeg((4200, 2100)))
    [path] = stored_files(app, open_session)
    assert opened(path).size == (2000, 1000)


def test_a_transparent_png_stays_png(app, client, tokens, open_session):
    item = upload(client, open_session, tokens["tutor"], png(mode="RGBA", color=(0, 0, 0, 0))).json
    assert item["src"].endswith(".png")
    [path] = stored_files(app, open_session)
    assert opened(path).format == "PNG"


# Refusals


def test_a_renamed_text_file_is_refused(app, client, tokens, open_session):
    response = upload(client, open_session, tokens["learner"], b"I am not a photo, honest")
    assert_error(response, 400, "invalid", "image")
    assert stored_files(app, open_session) == []
    assert items(app) == []


def test_the_image_field_is_required(client, tokens, open_session):
    assert_error(upload(client, open_session, tokens["learner"]), 400, "invalid", "image")


@pytest.mark.parametrize("page", ["", "-1", "1.5", "abc", "1000", " 1", "١"])
def test_the_page_must_be_a_page_number(app, client, tokens, open_session, page):
    response = upload(client, open_session, tokens["learner"], jpeg(), page=page)
    assert_error(response, 400, "invalid", "page")
    assert stored_files(app, open_session) == []


def test_the_client_id_is_limited(client, tokens, open_session):
    response = upload(client, open_session, tokens["learner"], jpeg(), id="x" * 65)
    assert_error(response, 400, "invalid", "id")


def test_an_oversized_upload_is_413(app, client, tokens, open_session):
    limit = app.config["WHITEBOARD_IMAGE_MAX_BYTES"]
    assert limit == 10 * 1024 * 1024  # the default
    big = jpeg() + b"\0" * (limit + 1 - len(jpeg()))
    assert_error(upload(client, open_session, tokens["learner"], big), 413, "too_large", "image")
    assert stored_files(app, open_session) == []
    assert items(app) == []
    # Exactly at the limit is fine (the padding after the JPEG's end is ignored).
    at_limit = jpeg() + b"\0" * (limit - len(jpeg()))
    assert upload(client, open_session, tokens["learner"], at_limit).status_code == 201


def test_a_request_over_max_content_length_is_413_json(app, client, tokens, open_session):
    body = b"\0" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    assert_error(upload(client, open_session, tokens["learner"], body), 413, "too_large")


@pytest.mark.parametrize("size", [(8000, 8000), (10000, 10000), (40000, 40000)])
def test_a_decompression_bomb_is_refused(app, client, tokens, open_session, size):
    bomb = with_declared_size(png((1, 1)), *size)
    assert_error(upload(client, open_session, tokens["learner"], bomb), 400, "invalid", "image")
    assert stored_files(app, open_session) == []


@pytest.mark.parametrize("who", ["other_learner", "other_tutor"])
def test_a_non_participant_gets_404_and_nothing_is_stored(app, client, tokens, open_session, who):
    assert_error(upload(client, open_session, tokens[who], jpeg()), 404, "not_found")
    assert_error(upload(client, 999_999, tokens["learner"], jpeg()), 404, "not_found")
    assert stored_files(app, open_session) == []


def test_a_coordinator_may_upload(client, tokens, open_session):
    assert upload(client, open_session, tokens["coordinator"], jpeg()).status_code == 201


def test_outside_the_window_is_403_room_closed(app, client, tokens, book):
    [later] = book(utcnow() + timedelta(days=1))
    [earlier] = book(utcnow() - timedelta(days=1))
    for session_id in (later, earlier):
        response = upload(client, session_id, tokens["learner"], jpeg())
        assert_error(response, 403, "room_closed")
        assert stored_files(app, session_id) == []


def test_without_credentials_is_401(client, open_session):
    response = client.post(
        images_url(open_session),
        data={"page": "0", "image": (io.BytesIO(jpeg()), "a.jpg")},
        content_type="multipart/form-data",
    )
    assert_error(response, 401, "unauthorized")


def test_browser_upload_needs_the_csrf_header(app, login_as, program, open_session):
    browser = signed_in(app, login_as, program.learner)
    form = {"page": "0", "image": (io.BytesIO(jpeg()), "a.jpg")}
    refused = browser.post(images_url(open_session), data=form, content_type="multipart/form-data")
    assert_error(refused, 400, "csrf")
    token = csrf_token(browser, "/settings")
    form = {"page": "0", "image": (io.BytesIO(jpeg()), "a.jpg")}
    response = browser.post(
        images_url(open_session),
        data=form,
        content_type="multipart/form-data",
        headers={"X-CSRFToken": token},
    )
    assert response.status_code == 201


# Idempotent retries


def test_resending_the_same_id_returns_the_stored_item(app, client, tokens, open_session):
    first = upload(client, open_session, tokens["learner"], jpeg(color="red"), id="retry-1")
    again = upload(client, open_session, tokens["learner"], jpeg(color="blue"), id="retry-1")
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json == first.json
    assert len(stored_files(app, open_session)) == 1
    assert len(items(app)) == 1
    other = upload(client, open_session, tokens["learner"], jpeg(), id="retry-2")
    assert other.json["seq"] == 2


def test_uploads_without_id_get_their_own_ids(client, tokens, open_session):
    first = upload(client, open_session, tokens["learner"], jpeg()).json
    second = upload(client, open_session, tokens["learner"], jpeg()).json
    assert first["id"]
    assert second["id"]
    assert first["id"] != second["id"]


def test_an_id_used_by_a_stroke_is_a_conflict(app, client, board_client, tokens, open_session):
    from tests.whiteboard.conftest import stroke_payload

    drawer = board_client(token=tokens["learner"])
    drawer.call("join", {"session_id": open_session})
    assert drawer.call("stroke", stroke_payload("shared-id"))["ok"] is True
    response = upload(client, open_session, tokens["learner"], jpeg(), id="shared-id")
    assert_error(response, 409, "conflict", "id")
    assert stored_files(app, open_session) == []


def test_an_own_image_can_be_undone_like_a_stroke(client, board_client, tokens, open_session):
    item = upload(client, open_session, tokens["learner"], jpeg(), id="img-undo").json
    learner = board_client(token=tokens["learner"])
    learner.call("join", {"session_id": open_session})
    assert learner.call("undo", {"stroke_id": "img-undo"}) == {"ok": True, "seq": item["seq"] + 1}


# Broadcast and replay


def test_the_image_event_reaches_the_other_participant(
    app, client, board_client, tokens, program, open_session
):
    tutor = board_client(token=tokens["tutor"])
    learner = board_client(token=tokens["learner"])
    stranger = board_client(token=tokens["other_learner"])
    for socket in (tutor, learner):
        assert socket.call("join", {"session_id": open_session})["ok"] is True
    response = upload(client, open_session, tokens["learner"], jpeg(), page=1, id="live-1")
    assert response.status_code == 201
    [event] = tutor.wait_for("image")
    assert event == response.json
    assert event["type"] == "image"
    assert event["author_id"] == program.learner.id
    assert set(event) == {"seq", "type", "author_id", "id", "page", "src", "x", "y", "w", "h"}
    # A retry broadcasts nothing new; a late joiner gets the image in the replay.
    upload(client, open_session, tokens["learner"], jpeg(), page=1, id="live-1")
    late = board_client(token=tokens["coordinator"])
    assert late.call("join", {"session_id": open_session})["items"] == [response.json]
    assert len(tutor.wait_for("image")) == 1
    assert stranger.received["image"] == []


# Fetching


def test_participants_fetch_the_photo_with_private_headers(
    app, client, login_as, program, tokens, open_session
):
    src = upload(client, open_session, tokens["learner"], jpeg()).json["src"]
    for account in (program.learner, program.tutor, program.coordinator):
        response = fetch(signed_in(app, login_as, account), src)
        assert response.status_code == 200
        assert response.mimetype == "image/jpeg"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "private" in response.headers["Cache-Control"]
        assert "public" not in response.headers["Cache-Control"]
        assert Image.open(io.BytesIO(response.data)).format == "JPEG"


def test_png_is_served_as_png(app, client, login_as, program, tokens, open_session):
    src = upload(client, open_session, tokens["tutor"], png(mode="LA", color=(0, 0))).json["src"]
    assert fetch(signed_in(app, login_as, program.learner), src).mimetype == "image/png"


@pytest.mark.parametrize("who", ["other_learner", "other_tutor"])
def test_non_participants_get_404_for_the_file(
    app, client, login_as, program, tokens, open_session, who
):
    src = upload(client, open_session, tokens["learner"], jpeg()).json["src"]
    response = signed_in(app, login_as, getattr(program, who)).get(src, buffered=True)
    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert b"\xff\xd8" not in response.data


def test_signed_out_is_sent_to_sign_in(client, tokens, open_session):
    src = upload(client, open_session, tokens["learner"], jpeg()).json["src"]
    response = fetch(client, src)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_the_file_is_under_its_own_session_only(
    app, client, login_as, program, tokens, open_session, book
):
    src = upload(client, open_session, tokens["learner"], jpeg()).json["src"]
    name = src.rsplit("/", 1)[1]
    [other] = book(
        utcnow() - timedelta(minutes=5), learner=program.other_learner, tutor=program.other_tutor
    )
    browser = signed_in(app, login_as, program.coordinator)
    assert fetch(browser, f"/whiteboard/images/{other}/{name}").status_code == 404


@pytest.mark.parametrize(
    "name",
    [
        "..%2F..%2Fdev-secret-key",
        "..%2Fmanabi.sqlite3",
        "%2E%2E%2F%2E%2E%2Fdev-secret-key",
        "AAAAAAAAAAAAAAAAAAAAAA.jpg",
        "photo.jpg",
    ],
)
def test_path_traversal_and_unknown_names_are_404(app, login_as, program, open_session, name):
    (Path(app.instance_path) / "dev-secret-key").write_text("TOPSECRET-VALUE-42")
    browser = signed_in(app, login_as, program.coordinator)
    response = fetch(browser, f"/whiteboard/images/{open_session}/{name}")
    assert response.status_code == 404
    assert b"TOPSECRET" not in response.data


def test_the_file_can_be_fetched_after_the_room_closed(
    app, client, login_as, program, tokens, open_session
):
    src = upload(client, open_session, tokens["learner"], jpeg()).json["src"]
    with app.app_context():
        from tutoring.scheduling.models import TutoringSession

        session = db.session.get(TutoringSession, open_session)
        session.starts_at -= timedelta(days=2)
        session.ends_at -= timedelta(days=2)
        db.session.commit()
    assert fetch(signed_in(app, login_as, program.learner), src).status_code == 200


# Snapshots


def test_snapshot_upload_list_and_fetch(app, client, login_as, program, tokens, open_session):
    response = upload_snapshot(client, open_session, tokens["tutor"], png((1600, 1000)), page=1)
    assert response.status_code == 201
    snapshot = response.json
    assert snapshot["session_id"] == open_session
    assert snapshot["page"] == 1
    assert snapshot["author_id"] == program.tutor.id
    assert (snapshot["width"], snapshot["height"]) == (1600, 1000)
    assert snapshot["created_at"].endswith("+00:00")
    listed = client.get(snapshots_url(open_session), headers=bearer(tokens["learner"]))
    assert listed.status_code == 200
    assert listed.json == {"snapshots": [snapshot]}
    served = fetch(signed_in(app, login_as, program.learner), snapshot["src"])
    assert served.status_code == 200
    assert served.mimetype == "image/png"
    assert Image.open(io.BytesIO(served.data)).size == (1600, 1000)
    with app.app_context():
        [row] = db.session.query(BoardSnapshot).all()
        assert row.stored_name == snapshot["src"].rsplit("/", 1)[1]
    assert items(app) == []  # a snapshot is not a board item


def test_snapshots_are_listed_oldest_first_and_per_session(
    client, program, tokens, open_session, book
):
    [other] = book(
        utcnow() - timedelta(minutes=5), learner=program.other_learner, tutor=program.other_tutor
    )
    for page in (0, 1):
        upload_snapshot(client, open_session, tokens["tutor"], png(), page=page)
    upload_snapshot(client, other, tokens["tutor"], png(), page=5)
    listed = client.get(snapshots_url(open_session), headers=bearer(tokens["coordinator"]))
    assert [s["page"] for s in listed.json["snapshots"]] == [0, 1]


def test_snapshot_must_be_a_png(app, client, tokens, open_session):
    response = upload_snapshot(client, open_session, tokens["tutor"], jpeg())
    assert_error(response, 400, "invalid", "snapshot")
    response = upload_snapshot(client, open_session, tokens["tutor"], b"<svg></svg>")
    assert_error(response, 400, "invalid", "snapshot")
    assert_error(upload_snapshot(client, open_session, tokens["tutor"]), 400, "invalid", "snapshot")
    assert stored_files(app, open_session) == []


def test_snapshot_bomb_and_size_are_refused(app, client, tokens, open_session):
    bomb = with_declared_size(png((1, 1)), 20000, 20000)
    assert_error(
        upload_snapshot(client, open_session, tokens["tutor"], bomb), 400, "invalid", "snapshot"
    )
    big = png() + b"\0" * app.config["WHITEBOARD_IMAGE_MAX_BYTES"]
    assert_error(
        upload_snapshot(client, open_session, tokens["tutor"], big), 413, "too_large", "snapshot"
    )


@pytest.mark.parametrize("who", ["other_learner", "other_tutor"])
def test_snapshots_are_for_participants_only(
    app, client, login_as, program, tokens, open_session, who
):
    snapshot = upload_snapshot(client, open_session, tokens["tutor"], png()).json
    assert_error(upload_snapshot(client, open_session, tokens[who], png()), 404, "not_found")
    assert_error(
        client.get(snapshots_url(open_session), headers=bearer(tokens[who])), 404, "not_found"
    )
    assert (
        signed_in(app, login_as, getattr(program, who))
        .get(snapshot["src"], buffered=True)
        .status_code
        == 404
    )


def test_snapshots_only_while_the_room_is_open_but_listed_after(client, tokens, book):
    [later] = book(utcnow() + timedelta(days=1))
    assert_error(upload_snapshot(client, later, tokens["tutor"], png()), 403, "room_closed")
    listed = client.get(snapshots_url(later), headers=bearer(tokens["learner"]))
    assert listed.json == {"snapshots": []}


# Limits


@pytest.fixture
def app_config(request):
    return getattr(request, "param", {})


@pytest.mark.parametrize("app_config", [{"WHITEBOARD_UPLOAD_LIMIT": "2 per minute"}], indirect=True)
def test_uploads_are_rate_limited_per_user(client, tokens, open_session):
    for _ in range(2):
        assert upload(client, open_session, tokens["learner"], jpeg()).status_code == 201
    assert_error(upload(client, open_session, tokens["learner"], jpeg()), 429, "rate_limited")
    assert_error(
        upload_snapshot(client, open_session, tokens["learner"], png()), 429, "rate_limited"
    )
    # Another user has a limit of their own.
    assert upload(client, open_session, tokens["tutor"], jpeg()).status_code == 201


@pytest.mark.parametrize("app_config", [{"WHITEBOARD_IMAGE_MAX_BYTES": 2000}], indirect=True)
def test_the_size_limit_is_configurable(client, tokens, open_session):
    response = upload(
        client, open_session, tokens["learner"], jpeg((800, 800), color="white") + b"\0" * 2000
    )
    assert_error(response, 413, "too_large", "image")
