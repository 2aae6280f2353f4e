"""JSON API v1 for the whiteboard's pictures: photos placed on a page, snapshots of pages.

Uploads are multipart forms (a phone's photo is bytes, not JSON). The picture is checked by
its content and re-encoded by whiteboard.images before anything is stored.
"""

from __future__ import annotations

from flask import abort, current_app, jsonify, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from tutoring.api.views import bp, json_body
from tutoring.errors import json_error
from tutoring.extensions import db, limiter, socketio
from tutoring.rooms import service as rooms
from tutoring.scheduling import service as scheduling
from tutoring.scheduling.models import TutoringSession
from tutoring.validation import ValidationError, integer
from tutoring.whiteboard import images, schema, service
from tutoring.whiteboard.events import NAMESPACE, board_room


def _upload_limit() -> str:
    return current_app.config["WHITEBOARD_UPLOAD_LIMIT"]


def _upload_key() -> str:
    # Checked when the view runs, after the API has authenticated the caller.
    return f"user:{current_user.id}"


# Decoding a picture costs far more than any other call: photos and snapshots share a limit
# per user, on top of the API's own.
upload_limit = limiter.shared_limit(
    _upload_limit, scope="whiteboard-upload", key_func=_upload_key, override_defaults=False
)


def _participant_session(session_id: int) -> TutoringSession:
    session = db.session.get(TutoringSession, session_id)
    if session is None or not rooms.may_enter(current_user, session):
        abort(404)
    return session


def _picture(field: str, **rules) -> images.Encoded:
    """Return the uploaded file of `field`, checked and re-encoded; 400 or 413 otherwise."""
    upload = request.files.get(field)
    if upload is None:
        raise ValidationError(field, _("This field is required."))
    config = current_app.config
    max_bytes = config["WHITEBOARD_IMAGE_MAX_BYTES"]
    raw = images.read_limited(upload.stream, field, max_bytes)
    return images.reencode(
        raw,
        field,
        max_bytes=max_bytes,
        max_pixels=config["WHITEBOARD_IMAGE_MAX_PIXELS"],
        max_side=config["WHITEBOARD_IMAGE_MAX_SIDE"],
        **rules,
    )


def _too_large(error: images.TooLarge):
    return json_error(413, error.message, error.code, error.field)


def _room_closed():
    return json_error(403, _("The room is not open now."), "room_closed")


@bp.post("/sessions/<int:session_id>/board/images")
@upload_limit
def upload_image(session_id: int):
    """Place a photo on a page of the board: multipart `image`, `page`, optional `id`.

    Answers 201 with the stored `image` item, broadcast to the room as `image`; a re-sent
    `id` answers 200 with the item stored the first time.
    """
    session = _participant_session(session_id)
    if not scheduling.room_is_open(session):
        return _room_closed()
    fields = schema.parse_image_upload(request.form)
    if fields.id is not None:
        existing = service.find_image(session.id, fields.id)
        if existing is not None:
            return jsonify(service.item_json(existing)), 200
    try:
        picture = _picture("image")
    except images.TooLarge as error:
        return _too_large(error)
    root = service.storage_root()
    name = images.store(root, session.id, picture)
    try:
        item, created = service.add_image(
            session,
            current_user,
            page=fields.page,
            client_id=fields.id,
            stored_name=name,
            width=picture.width,
            height=picture.height,
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        images.remove(root, session.id, name)
        raise
    body = service.item_json(item)
    if not created:
        images.remove(root, session.id, name)
        return jsonify(body), 200
    socketio.emit("image", body, to=board_room(session.id), namespace=NAMESPACE)
    return jsonify(body), 201


@bp.post("/sessions/<int:session_id>/board/snapshots")
@upload_limit
def upload_snapshot(session_id: int):
    """Keep a PNG of a page (the browser's export): multipart `snapshot`, `page`."""
    session = _participant_session(session_id)
    if not scheduling.room_is_open(session):
        return _room_closed()
    fields = schema.parse_snapshot_upload(request.form)
    try:
        picture = _picture("snapshot", formats=images.PNG_ONLY, keep_png=True)
    except images.TooLarge as error:
        return _too_large(error)
    root = service.storage_root()
    name = images.store(root, session.id, picture)
    try:
        snapshot = service.add_snapshot(
            session,
            current_user,
            page=fields.page,
            stored_name=name,
            width=picture.width,
            height=picture.height,
        )
        db.session.commit()
    except BaseException:
        db.session.rollback()
        images.remove(root, session.id, name)
        raise
    return jsonify(service.snapshot_json(snapshot)), 201


@bp.get("/sessions/<int:session_id>/board/snapshots")
def list_snapshots(session_id: int):
    """List the session's snapshots, oldest first (also after the room has closed)."""
    session = _participant_session(session_id)
    return jsonify({"snapshots": [service.snapshot_json(s) for s in service.snapshots(session.id)]})


@bp.get("/sessions/<int:session_id>/board")
def board(session_id: int):
    """Return a session's whole board, read only: for anyone who may see the session."""
    session = db.session.get(TutoringSession, session_id)
    if session is None or not service.may_view(current_user, session):
        abort(404)
    last_seq, items = service.items_since(session.id, None)
    return jsonify({"board_id": session.id, "last_seq": last_seq, "items": items})


@bp.post("/sessions/<int:session_id>/board/copy")
def copy_page(session_id: int):
    """Copy a page of an earlier board of the same learner into this session's open board (tutor)."""
    target = _participant_session(session_id)
    if not service.may_clear(current_user, target):
        abort(403)
    if not scheduling.room_is_open(target):
        return _room_closed()
    data = json_body()
    source = db.session.get(
        TutoringSession, integer(data, "from_session_id", minimum=1, maximum=2**31 - 1)
    )
    if source is None or not service.may_view(current_user, source):
        raise ValidationError("from_session_id", _l("No such session."))
    page = integer(data, "page", minimum=0, maximum=999)
    to_page = integer(data, "to_page", minimum=0, maximum=999, default=page)
    items = [
        service.item_json(item)
        for item in service.copy_page(current_user, source, page, target, to_page)
    ]
    db.session.commit()
    for item in items:
        socketio.emit(item["type"], item, to=board_room(target.id), namespace=NAMESPACE)
    return jsonify({"items": items}), 201
