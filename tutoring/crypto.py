"""Sensitive text encrypted at rest (AES-256-GCM), with keys kept outside the database.

Columns of type EncryptedText hold `enc1:<key id>:<base64 of nonce + ciphertext>`: a dump of
the database alone reveals none of them. Keys come from the configuration (environment or
instance/), several at once so they can be rotated: DATA_KEYS maps key ids to base64 keys and
DATA_KEY_CURRENT names the one new values are written with; `flask --app wsgi data-keys
rotate` re-encrypts every value with the current key.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Iterable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app
from sqlalchemy import Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

PREFIX = "enc1"
DEVELOPMENT_KEY_ID = "dev"


class DecryptionError(Exception):
    """A stored value cannot be read with the configured keys."""


def new_key() -> str:
    """Return a fresh key for DATA_KEYS, base64-encoded."""
    return base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()


def configured_keys(config) -> tuple[str, dict[str, bytes]]:
    """Return the current key id and every key, checking the configuration."""
    keys = dict(config.get("DATA_KEYS") or {})
    current = config.get("DATA_KEY_CURRENT")
    if not keys:
        if config.get("ENV") not in ("development", "testing"):
            raise RuntimeError(
                "TUTORING_DATA_KEYS is not set: notes and case reviews are stored encrypted. "
                "Create a key with `flask --app wsgi data-keys new` and set "
                "TUTORING_DATA_KEYS__k1=<key> and TUTORING_DATA_KEY_CURRENT=k1."
            )
        # Development and tests: a key derived from the secret key, so nothing to set up.
        derived = hashlib.sha256(b"manabi-data-key:" + str(config["SECRET_KEY"]).encode()).digest()
        return DEVELOPMENT_KEY_ID, {DEVELOPMENT_KEY_ID: derived}
    decoded = {}
    for key_id, value in keys.items():
        try:
            raw = base64.b64decode(str(value), validate=True)
        except ValueError:
            raise RuntimeError(f"TUTORING_DATA_KEYS__{key_id} is not base64") from None
        if len(raw) != 32:
            raise RuntimeError(f"TUTORING_DATA_KEYS__{key_id} must be 32 bytes (AES-256)")
        decoded[str(key_id)] = raw
    if current not in decoded:
        raise RuntimeError("TUTORING_DATA_KEY_CURRENT must name one of TUTORING_DATA_KEYS")
    return str(current), decoded


def _keys() -> tuple[str, dict[str, bytes]]:
    return current_app.extensions["data_keys"]


def encrypt(plain: str, key_id: str | None = None) -> str:
    """Return the stored form of a text."""
    current, keys = _keys()
    key_id = key_id or current
    nonce = os.urandom(12)
    sealed = AESGCM(keys[key_id]).encrypt(nonce, plain.encode("utf-8"), PREFIX.encode())
    return f"{PREFIX}:{key_id}:{base64.b64encode(nonce + sealed).decode()}"


def decrypt(stored: str) -> str:
    """Return the text of a stored value; a wrong or missing key is a DecryptionError."""
    try:
        prefix, key_id, payload = stored.split(":", 2)
    except ValueError:
        raise DecryptionError("the stored value is not encrypted text") from None
    if prefix != PREFIX:
        raise DecryptionError("the stored value is not encrypted text")
    _, keys = _keys()
    if key_id not in keys:
        raise DecryptionError(f"no key {key_id!r} in TUTORING_DATA_KEYS")
    raw = base64.b64decode(payload)
    try:
        return AESGCM(keys[key_id]).decrypt(raw[:12], raw[12:], PREFIX.encode()).decode("utf-8")
    except InvalidTag:
        raise DecryptionError(f"the key {key_id!r} does not open this value (wrong key?)") from None


def key_id_of(stored: str) -> str:
    """Return the id of the key a stored value was written with."""
    return stored.split(":", 2)[1]


class EncryptedText(TypeDecorator[str]):
    """Text stored encrypted with the current data key and read back as plain text."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else encrypt(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else decrypt(value)


class EncryptedJSON(TypeDecorator[dict]):
    """A JSON value stored encrypted (e.g. a note's earlier version)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: dict | None, dialect: Dialect) -> str | None:
        return None if value is None else encrypt(json.dumps(value, ensure_ascii=False))

    def process_result_value(self, value: str | None, dialect: Dialect) -> dict | None:
        return None if value is None else json.loads(decrypt(value))


def rotate(columns: Iterable) -> int:
    """Re-encrypt every value of these EncryptedText columns with the current key; return how many.

    Reads the raw stored values (not through the type), so it works table by table in one
    transaction: nothing is half rotated if it fails.
    """
    from sqlalchemy import select, type_coerce, update

    from tutoring.extensions import db

    current, _ = _keys()
    changed = 0
    for column in columns:
        table = column.table
        primary = list(table.primary_key.columns)[0]
        rows = db.session.execute(
            select(primary, type_coerce(column, Text())).where(column.isnot(None))
        ).all()
        for row_id, stored in rows:
            if key_id_of(stored) == current:
                continue
            db.session.execute(
                update(table)
                .where(primary == row_id)
                .values({column.name: _literal(encrypt(decrypt(stored)))})
            )
            changed += 1
    return changed


def _literal(stored: str):
    """Write an already encrypted value without encrypting it again."""
    from sqlalchemy import literal

    return literal(stored, type_=Text())


def encrypted_columns(metadata) -> list:
    """Return every EncryptedText column of the models."""
    return [
        column
        for table in metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, EncryptedText | EncryptedJSON)
    ]
