"""Jitsi room names, opaque ids and room tokens, checked without an app."""

from __future__ import annotations

import base64
import json
import math
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from joserfc import jwt
from joserfc.errors import BadSignatureError, ExpiredTokenError, InvalidTokenError
from joserfc.jwk import OctKey, RSAKey

from tutoring.rooms.jitsi import (
    JitsiKeys,
    keys_from_config,
    new_room_name,
    opaque_user_id,
    room_token,
)

DOMAIN = "meet.example.org"
TENANT = "vpaas-magic-cookie-0123456789abcdef0123456789abcdef"
KID = f"{TENANT}/4f4910"
NOW = datetime(2025, 5, 1, 9, 50, tzinfo=UTC)
START = datetime(2025, 5, 1, 9, 45, tzinfo=UTC)
END = datetime(2025, 5, 1, 12, 30, tzinfo=UTC)
# Written out here rather than imported, so dropping one from the module fails a test.
FEATURES = ("recording", "livestreaming", "transcription", "outbound-call", "file-upload")


@pytest.fixture(scope="module")
def secret() -> str:
    # The base64url form of a 256-bit key: a string an operator can put in an env variable.
    return OctKey.generate_key(256).as_dict()["k"]


@pytest.fixture(scope="module")
def rsa_key() -> RSAKey:
    return RSAKey.generate_key(2048)


@pytest.fixture(scope="module")
def rsa_public(rsa_key: RSAKey) -> RSAKey:
    return RSAKey.import_key(rsa_key.as_pem(private=False))


@pytest.fixture(scope="module")
def hs_keys(secret: str) -> JitsiKeys:
    return JitsiKeys.hs256("manabi", secret)


@pytest.fixture(scope="module")
def jaas_keys(rsa_key: RSAKey) -> JitsiKeys:
    return JitsiKeys.jaas(TENANT, rsa_key.as_pem(private=True).decode(), KID)


def make_token(keys: JitsiKeys, **overrides: Any) -> str:
    arguments: dict[str, Any] = {
        "keys": keys,
        "domain": DOMAIN,
        "room": "k3q7zr2mxw5tnb4hjc6vdp2ya7efgs3u",
        "user_opaque_id": "0f3a9c1e5b7d2f4a6c8e0b1d3f5a7c9e",
        "display_name": "Hanako",
        "moderator": False,
        "not_before": START,
        "expires_at": END,
        "now": NOW,
    }
    arguments.update(overrides)
    return room_token(**arguments)


def hs_claims(token: str, secret: str) -> dict[str, Any]:
    return jwt.decode(token, OctKey.import_key(secret), algorithms=["HS256"]).claims


def rs_claims(token: str, public: RSAKey) -> dict[str, Any]:
    return jwt.decode(token, public, algorithms=["RS256"]).claims


def segment(part: str) -> str:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)).decode("utf-8")


# Room names


def test_room_name_is_lower_case_letters_and_digits() -> None:
    for _ in range(200):
        name = new_room_name()
        assert re.fullmatch(r"[a-z0-9]+", name), name


def test_room_names_are_unique_and_carry_at_least_128_bits() -> None:
    names = [new_room_name() for _ in range(2000)]
    assert len(set(names)) == len(names)
    assert len({len(name) for name in names}) == 1
    alphabet = set("".join(names))
    bits = len(names[0]) * math.log2(len(alphabet))
    assert bits >= 128, f"{len(names[0])} characters from {len(alphabet)} symbols"


# Opaque user ids


def test_opaque_id_is_stable_for_a_user_and_secret() -> None:
    assert opaque_user_id(42, "secret-a") == opaque_user_id(42, "secret-a")
    assert re.fullmatch(r"[0-9a-f]{32}", opaque_user_id(42, "secret-a"))


def test_opaque_id_differs_across_secrets_and_users() -> None:
    ids = {
        opaque_user_id(42, "secret-a"),
        opaque_user_id(42, "secret-b"),
        opaque_user_id(43, "secret-a"),
    }
    assert len(ids) == 3
    assert opaque_user_id(42, "secret-a") != "42"


def test_opaque_id_needs_a_secret_and_an_int() -> None:
    with pytest.raises(ValueError, match="secret"):
        opaque_user_id(42, "")
    with pytest.raises(TypeError):
        opaque_user_id(True, "secret-a")  # type: ignore[arg-type]


# HS256 (self-hosted Prosody)


def test_hs256_header_and_claims(hs_keys: JitsiKeys, secret: str) -> None:
    token = make_token(hs_keys, domain="Meet.Example.ORG", room="Algebra-Room_7")
    header = jwt.decode(token, OctKey.import_key(secret), algorithms=["HS256"]).header
    assert header == {"alg": "HS256", "typ": "JWT"}
    claims = hs_claims(token, secret)
    assert claims["iss"] == "manabi"
    assert claims["aud"] == "jitsi"
    assert claims["sub"] == "meet.example.org"
    assert claims["room"] == "algebra-room_7"
    assert claims["iat"] == int(NOW.timestamp())
    assert claims["nbf"] == int(START.timestamp())
    assert claims["exp"] == int(END.timestamp())
    assert all(type(claims[name]) is int for name in ("iat", "nbf", "exp"))
    assert claims["context"]["user"] == {
        "id": "0f3a9c1e5b7d2f4a6c8e0b1d3f5a7c9e",
        "name": "Hanako",
    }


def test_hs256_moderator_claim_is_true(hs_keys: JitsiKeys, secret: str) -> None:
    claims = hs_claims(make_token(hs_keys, moderator=True), secret)
    assert claims["context"]["user"]["moderator"] is True


def test_hs256_signature_fails_with_another_secret(hs_keys: JitsiKeys) -> None:
    token = make_token(hs_keys)
    with pytest.raises(BadSignatureError):
        jwt.decode(token, OctKey.generate_key(256), algorithms=["HS256"])


# RS256 (JaaS)


def test_jaas_header_and_claims(jaas_keys: JitsiKeys, rsa_public: RSAKey) -> None:
    token = make_token(jaas_keys, room="Room42")
    decoded = jwt.decode(token, rsa_public, algorithms=["RS256"])
    assert decoded.header == {"alg": "RS256", "typ": "JWT", "kid": KID}
    claims = decoded.claims
    assert claims["iss"] == "chat"
    assert claims["aud"] == "jitsi"
    assert claims["sub"] == TENANT
    assert claims["room"] == "room42"
    assert (claims["iat"], claims["nbf"], claims["exp"]) == (
        int(NOW.timestamp()),
        int(START.timestamp()),
        int(END.timestamp()),
    )
    assert claims["context"]["user"] == {
        "id": "0f3a9c1e5b7d2f4a6c8e0b1d3f5a7c9e",
        "name": "Hanako",
    }


def test_jaas_moderator_claim_is_the_string_true(jaas_keys: JitsiKeys, rsa_public: RSAKey) -> None:
    claims = rs_claims(make_token(jaas_keys, moderator=True), rsa_public)
    assert claims["context"]["user"]["moderator"] == "true"


def test_jaas_signature_fails_with_another_key(jaas_keys: JitsiKeys) -> None:
    other = RSAKey.import_key(RSAKey.generate_key(2048).as_pem(private=False))
    with pytest.raises(BadSignatureError):
        jwt.decode(make_token(jaas_keys), other, algorithms=["RS256"])


# Rules shared by both modes


@pytest.fixture(params=["HS256", "RS256"])
def signed(request, hs_keys, jaas_keys, secret, rsa_public):
    """Return (keys, decode) for each signing mode."""
    if request.param == "HS256":
        return hs_keys, lambda token: hs_claims(token, secret)
    return jaas_keys, lambda token: rs_claims(token, rsa_public)


def test_participant_token_has_no_moderator_key(signed) -> None:
    keys, decode = signed
    user = decode(make_token(keys, moderator=False))["context"]["user"]
    assert "moderator" not in user


@pytest.mark.parametrize("moderator", [True, False])
def test_features_are_present_and_off(signed, moderator: bool) -> None:
    keys, decode = signed
    features = decode(make_token(keys, moderator=moderator))["context"]["features"]
    assert set(FEATURES) <= set(features)
    for name, value in features.items():
        # Jitsi allows a feature only for true or "true"; anything else switches it off.
        assert value not in (True, "true"), name
        assert value == "false", name


def test_token_holds_no_database_id_or_email(signed) -> None:
    keys, decode = signed
    user_id = 987654
    token = make_token(
        keys, user_opaque_id=opaque_user_id(user_id, "app-secret-key"), display_name="Taro"
    )
    decoded_json = json.dumps(decode(token))
    raw = [segment(part) for part in token.split(".")[:2]]
    for text in [decoded_json, token, *raw]:
        assert str(user_id) not in text
        assert "@" not in text
        assert "email" not in text
    # The only numbers in the token are its three times.
    numbers = re.findall(r"(?<![\w-])\d+(?![\w-])", decoded_json)
    assert sorted(numbers) == sorted(str(int(moment.timestamp())) for moment in (NOW, START, END))


def test_token_is_valid_only_inside_its_window(signed) -> None:
    keys, decode = signed
    claims = decode(make_token(keys, now=START - timedelta(minutes=10)))

    def check(moment: datetime) -> None:
        jwt.JWTClaimsRegistry(now=int(moment.timestamp())).validate(claims)

    check(START + timedelta(minutes=1))
    check(END - timedelta(seconds=1))
    with pytest.raises(InvalidTokenError, match="not yet valid"):
        check(START - timedelta(minutes=1))
    with pytest.raises(ExpiredTokenError):
        check(END + timedelta(minutes=1))


def test_token_may_be_issued_before_its_window_opens(signed) -> None:
    keys, decode = signed
    early = START - timedelta(hours=2)
    claims = decode(make_token(keys, now=early))
    assert claims["iat"] < claims["nbf"]


@pytest.mark.parametrize("room", ["", "*", "room/other", "two words", "a.b", "ルーム", "x*"])
def test_bad_room_names_are_refused(signed, room: str) -> None:
    keys, _decode = signed
    with pytest.raises(ValueError, match="room name"):
        make_token(keys, room=room)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"expires_at": START}, "after not_before"),
        ({"expires_at": START - timedelta(seconds=1)}, "after not_before"),
        ({"now": END + timedelta(seconds=1)}, "expired"),
        ({"now": NOW.replace(tzinfo=None)}, "aware"),
        ({"not_before": START.replace(tzinfo=None)}, "aware"),
        ({"expires_at": END.replace(tzinfo=None)}, "aware"),
        ({"user_opaque_id": ""}, "user id"),
    ],
)
def test_bad_times_and_ids_are_refused(signed, overrides: dict, message: str) -> None:
    keys, _decode = signed
    with pytest.raises(ValueError, match=message):
        make_token(keys, **overrides)


def test_hs256_needs_the_domain(hs_keys: JitsiKeys) -> None:
    with pytest.raises(ValueError, match="domain"):
        make_token(hs_keys, domain="")


# Keys and configuration


def test_keys_do_not_show_secrets_in_repr(hs_keys: JitsiKeys, jaas_keys: JitsiKeys) -> None:
    assert hs_keys.app_secret
    assert hs_keys.app_secret not in repr(hs_keys)
    assert "PRIVATE KEY" not in repr(jaas_keys)


def test_short_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 32"):
        JitsiKeys.hs256("manabi", "too-short")


@pytest.mark.parametrize(
    "config",
    [
        {},
        {"JITSI_DOMAIN": "meet.jit.si"},
        {"JITSI_DOMAIN": DOMAIN, "JITSI_APP_ID": "manabi", "JITSI_APP_SECRET": ""},
        {"JITSI_APP_SECRET": None, "JITSI_PRIVATE_KEY_PATH": None},
    ],
)
def test_no_keys_without_secret_or_private_key(config: dict) -> None:
    assert keys_from_config(config) is None


def test_hs256_keys_from_config(secret: str) -> None:
    keys = keys_from_config(
        {"JITSI_DOMAIN": DOMAIN, "JITSI_APP_ID": "manabi", "JITSI_APP_SECRET": secret}
    )
    assert keys is not None
    assert (keys.algorithm, keys.app_id, keys.app_secret) == ("HS256", "manabi", secret)
    assert hs_claims(make_token(keys), secret)["iss"] == "manabi"


def test_jaas_keys_from_config_with_key_path(
    tmp_path: Path, rsa_key: RSAKey, rsa_public: RSAKey
) -> None:
    path = tmp_path / "jaas.pem"
    path.write_bytes(rsa_key.as_pem(private=True))
    keys = keys_from_config(
        {
            "JITSI_DOMAIN": "8x8.vc",
            "JITSI_APP_ID": TENANT,
            "JITSI_PRIVATE_KEY_PATH": str(path),
            "JITSI_KID": KID,
        }
    )
    assert keys is not None
    assert (keys.algorithm, keys.app_id, keys.kid) == ("RS256", TENANT, KID)
    decoded = jwt.decode(make_token(keys, domain="8x8.vc"), rsa_public, algorithms=["RS256"])
    assert decoded.header["kid"] == KID
    assert decoded.claims["sub"] == TENANT


def jaas_config(path: Path, **overrides: Any) -> dict[str, Any]:
    config = {
        "JITSI_DOMAIN": "8x8.vc",
        "JITSI_APP_ID": TENANT,
        "JITSI_PRIVATE_KEY_PATH": str(path),
        "JITSI_KID": KID,
    }
    config.update(overrides)
    return config


def test_unreadable_key_path_is_a_clear_error(tmp_path: Path) -> None:
    missing = tmp_path / "missing.pem"
    with pytest.raises(ValueError, match=re.escape(str(missing))):
        keys_from_config(jaas_config(missing))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"JITSI_KID": None}, "TUTORING_JITSI_KID is required"),
        ({"JITSI_KID": "vpaas-magic-cookie-someoneelse/4f4910"}, "must start with the AppID"),
        ({"JITSI_APP_ID": None}, "TUTORING_JITSI_APP_ID"),
        ({"JITSI_DOMAIN": ""}, "TUTORING_JITSI_DOMAIN"),
        ({"JITSI_APP_SECRET": "x" * 40}, "not both"),
    ],
)
def test_jaas_configuration_errors(
    tmp_path: Path, rsa_key: RSAKey, overrides: dict, message: str
) -> None:
    path = tmp_path / "jaas.pem"
    path.write_bytes(rsa_key.as_pem(private=True))
    with pytest.raises(ValueError, match=message):
        keys_from_config(jaas_config(path, **overrides))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"not a key", "not an RSA key"),
        (None, "public key"),
    ],
)
def test_key_file_must_hold_an_rsa_private_key(
    tmp_path: Path, rsa_key: RSAKey, content: bytes | None, message: str
) -> None:
    path = tmp_path / "jaas.pem"
    path.write_bytes(rsa_key.as_pem(private=False) if content is None else content)
    with pytest.raises(ValueError, match=message):
        keys_from_config(jaas_config(path))


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"JITSI_APP_SECRET": "short"}, "at least 32"),
        ({"JITSI_APP_SECRET": 12345678901234567890123456789012345}, "must be a string"),
        ({"JITSI_KID": KID}, "TUTORING_JITSI_KID belongs to JaaS"),
        ({"JITSI_APP_ID": ""}, "TUTORING_JITSI_APP_ID"),
        ({"JITSI_DOMAIN": None}, "TUTORING_JITSI_DOMAIN"),
    ],
)
def test_hs256_configuration_errors(secret: str, overrides: dict, message: str) -> None:
    config = {"JITSI_DOMAIN": DOMAIN, "JITSI_APP_ID": "manabi", "JITSI_APP_SECRET": secret}
    config.update(overrides)
    with pytest.raises(ValueError, match=message):
        keys_from_config(config)
