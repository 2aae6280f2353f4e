"""Bad input to every JSON API endpoint is refused with the error format and stores nothing.

Endpoints come from the app's url_map. Every one gets the generic cases (bodies that are not
a JSON object, wrong content types, unknown ids in the path, query parameters of the wrong
shape); an endpoint with a valid example in EXAMPLES also gets every field of that example
replaced by a wrong type, a huge or impossible value, or left out. The example itself is
sent last and must be accepted, so the cases before it fail for the field they change.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import bearer
from tests.matrix import concrete_path
from tests.security.conftest import allowed_role, row_counts
from tutoring.database import utcnow
from tutoring.extensions import db

HUGE = "あ" * 350_000  # a little over 1 MB as UTF-8
BAD_DATES = ["2025-02-30", "yesterday", "2025-13-01T00:00", "2025-02-30T10:00:00+09:00"]
# What a tolerant endpoint may answer besides success; anything else (500 above all) fails.
REFUSALS = {400, 403, 404, 409, 413, 415}


def _later(days: int) -> str:
    return (utcnow() + timedelta(days=days)).replace(microsecond=0).isoformat()


# A valid request of each endpoint that takes input: {"json": ...} and/or {"query": ...},
# given the world of tests/matrix.py. An endpoint without a row gets the generic cases.
EXAMPLES = {
    "POST /api/v1/users": lambda w: {
        "json": {"email": "new.tutor@example.org", "name": "中村 翔", "role": "tutor"}
    },
    "POST /api/v1/sessions": lambda w: {
        "json": {
            "learner_id": w["people"]["learner"].id,
            "tutor_id": w["people"]["tutor"].id,
            "starts_at": _later(30),
            "duration_minutes": 90,
            "kind": "study",
            "mode": "online",
            "weekly_until": _later(45)[:10],
        }
    },
    "PATCH /api/v1/sessions/<session_id>": lambda w: {
        "json": {"starts_at": _later(3), "duration_minutes": 90, "scope": "this"}
    },
    "POST /api/v1/sessions/<session_id>/cancel": lambda w: {
        "json": {"reason": "体調不良", "scope": "this"}
    },
    "PUT /api/v1/learners/<learner_id>/tutors": lambda w: {
        "json": {"tutor_ids": [w["people"]["tutor"].id]}
    },
    "PUT /api/v1/sessions/<session_id>/attendance/<user_id>": lambda w: {
        "json": {"status": "late", "note": "電車の遅れ"}
    },
    "POST /api/v1/sessions/<session_id>/presence": lambda w: {
        "json": {"source": "page", "kind": "heartbeat", "client_id": "tab-1"}
    },
    "POST /api/v1/sessions/<session_id>/board/copy": lambda w: {
        "json": {"from_session_id": w["earlier_session_id"], "page": 0, "to_page": 1}
    },
    "POST /api/v1/learners/<learner_id>/notes": lambda w: {
        "json": {
            "subject": "数学",
            "body": "一次関数の**グラフ**",
            "homework": "p.12",
            "visibility": "learner",
            "session_id": w["values"]["session_id"],
        }
    },
    "PATCH /api/v1/learners/<learner_id>/notes/<note_id>": lambda w: {
        "json": {"subject": "英語", "visibility": "staff"}
    },
    "PUT /api/v1/me/notifications": lambda w: {
        "json": {
            "channels": {"email": True, "webpush": False},
            "reminders": {"day_before": True},
            "quiet_hours": {"start": "21:00", "end": "08:00"},
            "locale": "ja",
        }
    },
    "PUT /api/v1/users/<user_id>/notifications": lambda w: {
        "json": {"channels": {"email": False}, "line_user_id": "U" + "0123456789abcdef" * 2}
    },
    "POST /api/v1/me/push-subscriptions": lambda w: {
        "json": {
            "endpoint": "https://fcm.googleapis.com/fcm/send/device-1",
            "keys": {"p256dh": "B" * 87, "auth": "A" * 22},
        }
    },
    "DELETE /api/v1/me/push-subscriptions": lambda w: {
        "json": {"endpoint": "https://fcm.googleapis.com/fcm/send/device-1"},
        # sent before the valid example, so it has something to delete
        "before": (
            "POST",
            "/api/v1/me/push-subscriptions",
            {
                "endpoint": "https://fcm.googleapis.com/fcm/send/device-1",
                "keys": {"p256dh": "B" * 87, "auth": "A" * 22},
            },
        ),
    },
    "GET /api/v1/users": lambda w: {"query": {"role": "tutor"}},
    "GET /api/v1/sessions": lambda w: {
        "query": {"from": "2026-04-01", "to": "2027-03-31", "learner_id": w["values"]["learner_id"]}
    },
    "GET /api/v1/attendance": lambda w: {
        "query": {
            "from": "2026-04-01",
            "to": "2027-03-31",
            "learner_id": w["values"]["learner_id"],
            "format": "json",
            "page": 1,
            "per_page": 50,
        }
    },
    "GET /api/v1/attendance/warnings": lambda w: {"query": {"from": "2026-04-01"}},
    "GET /api/v1/notifications": lambda w: {
        "query": {"limit": 10, "offset": 0, "from": "2026-04-01", "status": "sent"}
    },
    "GET /api/v1/learners/<learner_id>/notes": lambda w: {"query": {"q": "関数"}},
}
# Query parameters any endpoint might read, sent with values of the wrong shape.
GENERIC_QUERY = [
    "from",
    "to",
    "learner_id",
    "tutor_id",
    "session_id",
    "page",
    "per_page",
    "limit",
    "offset",
    "format",
    "role",
    "status",
    "fiscal_year",
]
BAD_QUERY_VALUES = ["yesterday", "2025-02-30", "-1", str(2**63), "NaN", "x" * 5000]


def _wrong_values(name: str, value) -> list:
    """Return values of another shape than `value`, each of which a strict API must refuse."""
    nested = {"a": {"b": [1, {"c": None}]}}
    if name.endswith("_id") and isinstance(value, int):  # ids that name nothing
        return [0, 2**31, *_wrong_values("", value)]
    if name.endswith("_ids"):
        return [[0], [2**31], *_wrong_values("", value)]
    if isinstance(value, bool):
        return ["true", 1, [True], nested]
    if isinstance(value, int):
        return ["12", 1.5, 10**30, -1, 2**63, [value], nested, True]
    if isinstance(value, str):
        wrong = [12345, ["a"], nested, True, HUGE]
        if value[:4].isdigit() and len(value) >= 10:  # a date or a date-time
            wrong += BAD_DATES
        return wrong
    if isinstance(value, list):
        return ["x", nested, [None], [10**30], [2**63], [-1], ["x"]]
    return ["x", [1], True, 10**30]


def _paths(example: dict, prefix=()):
    """Yield the path of every leaf and object of the example, outermost first."""
    for key, value in example.items():
        yield (*prefix, key)
        if isinstance(value, dict):
            yield from _paths(value, (*prefix, key))


def _replaced(example: dict, path: tuple, value, *, remove=False) -> dict:
    copy = json.loads(json.dumps(example))
    target = copy
    for key in path[:-1]:
        target = target[key]
    if remove:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return copy


def _get(example: dict, path: tuple):
    for key in path:
        example = example[key]
    return example


def body_cases(example: dict | None) -> list[tuple[str, dict, bool]]:
    """Return (label, request keywords, must be refused) for the body of a write."""
    cases = [
        (
            "form body",
            {"data": "name=x", "content_type": "application/x-www-form-urlencoded"},
            True,
        ),
        ("broken JSON", {"data": '{"a": ', "content_type": "application/json"}, True),
        ("JSON list", {"json": [example or {}]}, True),
        ("JSON null", {"data": "null", "content_type": "application/json"}, True),
        ("JSON string", {"json": "x"}, True),
        ("raw NaN", {"data": '{"a": NaN}', "content_type": "application/json"}, False),
        ("no body", {}, True),
        ("not UTF-8", {"data": b'{"a": "\xff\xfe"}', "content_type": "application/json"}, True),
        ("1 MB of junk", {"data": "{" * 1_000_000, "content_type": "application/json"}, True),
    ]
    if example is None:
        return cases
    text = json.dumps(example)
    cases.append(("text/plain", {"data": text, "content_type": "text/plain"}, True))
    for path in _paths(example):
        name = ".".join(path)
        value = _get(example, path)
        cases.append(
            (f"{name} left out", {"json": _replaced(example, path, None, remove=True)}, False)
        )
        cases.append((f"{name} null", {"json": _replaced(example, path, None)}, False))
        for wrong in _wrong_values(path[-1], value):
            label = f"{name}={str(wrong)[:30]!s}"
            cases.append((label, {"json": _replaced(example, path, wrong)}, True))
        if isinstance(value, int | float) and not isinstance(value, bool):
            for raw in ("NaN", "Infinity", "1e309", "-1e309"):
                marked = json.dumps(_replaced(example, path, "@@RAW@@"))
                data = marked.replace('"@@RAW@@"', raw)
                cases.append(
                    (f"{name}={raw}", {"data": data, "content_type": "application/json"}, True)
                )
    return cases


def query_cases(example: dict | None) -> list[tuple[str, dict, bool]]:
    """Return (label, query, must be refused) cases for the query string."""
    example = example or {}
    cases = []
    for name in example:
        strict = name != "q"  # free text: any value is a search
        for value in BAD_QUERY_VALUES:
            cases.append((f"?{name}={value[:20]}", {**example, name: value}, strict))
    # Parameters any endpoint might read, all wrong at once: a few requests, not hundreds.
    for value in ("2025-02-30", str(2**63), "[]", "x" * 5000):
        cases.append((f"every parameter={value[:20]}", {n: value for n in GENERIC_QUERY}, False))
    cases.append(("repeated parameter", {**example, "from": ["2026-01-01", "yesterday"]}, False))
    return cases


def path_cases(template: str, world: dict) -> list[tuple[str, str]]:
    """Return (label, path) with each id of the path replaced by one that names nothing."""
    cases = []
    for name in re.findall(r"<([a-z_]+_id)>", template):
        for unknown in ("0", "-1", str(2**31), str(2**63)):
            values = {**world["values"], name: unknown}
            path = concrete_path(template, {**world, "values": values})
            cases.append((f"{name}={unknown}", path))
    return cases


class Sweep:
    """Send requests as one person with a token; collect every broken answer."""

    def __init__(self, app, world, make_token, method, template):
        self.app, self.method, self.template = app, method, template
        self.role = allowed_role(method, template)
        self.headers = bearer(make_token(world["people"][self.role]))
        self.client = app.test_client()
        self.failures: list[str] = []

    def counts(self) -> dict[str, int]:
        with self.app.app_context():
            counts = row_counts()
            db.session.remove()
            return counts

    def send(self, label: str, path: str, must_refuse: bool, **kwargs):
        # A read stores nothing but an audit row now and then: count rows around writes only.
        write = self.method != "GET"
        before = self.counts() if write else {}
        response = self.client.open(path, method=self.method, headers=self.headers, **kwargs)
        after = self.counts() if write else {}
        status = response.status_code
        where = f"{self.method} {self.template} [{label}] as {self.role}: {status}"
        if status >= 400:
            error = response.get_json(silent=True)
            if not (isinstance(error, dict) and {"code", "message"} <= set(error.get("error", {}))):
                self.failures.append(f"{where}: not the error format: {response.data[:200]!r}")
            elif status == 400 and not error["error"].get("field"):
                self.failures.append(f"{where}: names no field: {error}")
            if status not in REFUSALS:
                self.failures.append(f"{where}: unexpected status")
            if after != before:
                self.failures.append(f"{where}: refused but stored {_diff(before, after)}")
        elif must_refuse:
            self.failures.append(f"{where}: accepted; stored {_diff(before, after)}")
        return response


def _diff(before, after) -> dict:
    return {t: (before[t], after[t]) for t in before if before[t] != after[t]}


@pytest.fixture
def app_config() -> dict:
    return {"API_TOKEN_LIMIT": "100000 per minute", "WHITEBOARD_UPLOAD_LIMIT": "100000 per minute"}


def _api_routes():
    from tests.matrix import HTTP_ROWS

    return sorted(line for line in HTTP_ROWS if line.split(" ", 1)[1].startswith("/api/v1"))


@pytest.fixture
def api_world(world, book) -> dict:
    """The world of tests/matrix.py and a session a week earlier (to copy a board page from)."""
    world["earlier_session_id"] = book(utcnow().replace(microsecond=0) - timedelta(days=7))[0]
    return world


@pytest.mark.parametrize("line", _api_routes())
def test_bad_input_is_refused_and_changes_nothing(app, api_world, make_token, line):
    world = api_world
    method, template = line.split(" ", 1)
    sweep = Sweep(app, world, make_token, method, template)
    described = EXAMPLES.get(line, lambda w: {})(world)
    body, query = described.get("json"), described.get("query")
    path = concrete_path(template, world)
    if "before" in described:
        before_method, before_path, before_body = described["before"]
        response = sweep.client.open(
            before_path, method=before_method, json=before_body, headers=sweep.headers
        )
        assert response.status_code < 400, response.data
    if body is not None or query is not None:
        # First, so that what follows fails for the one thing it changes. What it stores
        # (a session, an account) may make a later case a 409, which is a refusal too.
        response = sweep.send("the valid example", path, False, json=body, query_string=query)
        assert response.status_code < 400, f"{line} refuses its example: {response.data[:300]!r}"
    for label, unknown in path_cases(template, world):
        sweep.send(label, unknown, True, json=body, query_string=query)
    if method != "GET":
        for label, kwargs, must_refuse in body_cases(body):
            sweep.send(label, path, must_refuse, query_string=query, **kwargs)
    for label, query_string, must_refuse in query_cases(query):
        sweep.send(
            label, path, must_refuse and method == "GET", query_string=query_string, json=body
        )
    assert sweep.failures == []


WRITES_WITH_EXAMPLES = sorted(line for line in EXAMPLES if not line.startswith("GET"))
SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=50)
# Nested two levels deep, which is as deep as any body of the API goes.
JSON_VALUES = (
    SCALARS
    | st.lists(SCALARS, max_size=3)
    | st.dictionaries(st.text(max_size=10), SCALARS | st.lists(SCALARS, max_size=2), max_size=3)
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_fuzzed_bodies_never_break_a_write(app, api_world, make_token, data):
    world = api_world
    line = data.draw(st.sampled_from(WRITES_WITH_EXAMPLES), label="endpoint")
    method, template = line.split(" ", 1)
    example = EXAMPLES[line](world)["json"]
    field = data.draw(st.sampled_from(sorted(example)), label="field")
    value = data.draw(JSON_VALUES, label="value")
    sweep = Sweep(app, world, make_token, method, template)
    body = {**example, field: value}
    sweep.send(f"{field}={value!r}"[:80], concrete_path(template, world), False, json=body)
    assert sweep.failures == []
