"""CSRF: every write route refuses a cookie-authenticated request without the form's token.

The routes come from the app's url_map, so a route added later is swept without anyone
remembering; who may use it comes from docs/permissions.md (tests/matrix.py).
"""

from __future__ import annotations

import pytest

from tests.conftest import bearer, csrf_token
from tests.matrix import concrete_path
from tests.security.conftest import allowed_role, routes, row_counts
from tutoring.extensions import db


def _client(app, world, login_as, role):
    client = app.test_client()
    if role != "anonymous":
        login_as(world["people"][role], client)
    # A page first, so the session holds a CSRF secret: what a real visitor's session has.
    csrf_token(client, "/login" if role == "anonymous" else "/settings")
    return client


def _body(path: str, token: str | None) -> dict:
    if path.startswith("/api/"):
        return {"json": {}, "headers": {"X-CSRFToken": token} if token else {}}
    return {"data": {"csrf_token": token} if token else {}}


def _counts(app) -> dict[str, int]:
    with app.app_context():
        counts = row_counts()
        db.session.remove()
        return counts


@pytest.mark.parametrize(
    "token", [None, "forged-token", "IjEyMzQ1Njc4OTAi.ZZZZZZ.aaaaaaaaaaaaaaaaaaaaaaaaaaa"]
)
def test_every_write_route_refuses_a_session_request_without_its_token(app, world, login_as, token):
    refused, failures = 0, []
    for method, rule in routes(app):
        role = allowed_role(method, rule)
        client = _client(app, world, login_as, role)
        path = concrete_path(rule, world)
        before = _counts(app)
        response = client.open(path, method=method, **_body(path, token))
        after = _counts(app)
        line = f"{method} {path} as {role}"
        if response.status_code != 400:
            failures.append(f"{line}: {response.status_code}, expected 400")
        elif path.startswith("/api/") and response.json["error"]["code"] != "csrf":
            failures.append(f"{line}: {response.json}")
        if after != before:
            changed = {t: (before[t], after[t]) for t in before if before[t] != after[t]}
            failures.append(f"{line} stored something: {changed}")
        refused += 1
    assert failures == []
    assert refused >= 70  # the sweep saw the app's routes, not an empty list


def test_a_token_of_another_session_is_refused(app, world, login_as):
    coordinator = _client(app, world, login_as, "coordinator")
    stolen = csrf_token(_client(app, world, login_as, "tutor"), "/settings")
    before = _counts(app)
    response = coordinator.post(
        "/api/v1/users",
        json={"email": "x@example.org", "name": "X", "role": "tutor"},
        headers={"X-CSRFToken": stolen},
    )
    assert response.status_code == 400
    assert response.json["error"]["code"] == "csrf"
    page = coordinator.post("/venues/new", data={"name": "会場", "csrf_token": stolen})
    assert page.status_code == 400
    assert _counts(app) == before


def test_bearer_token_writes_need_no_csrf_token(app, world, login_as, make_token):
    tokens = {}
    checked = []
    for method, rule in routes(app, prefix="/api/"):
        role = allowed_role(method, rule)
        if role not in tokens:
            tokens[role] = make_token(world["people"][role])
        path = concrete_path(rule, world)
        # The session cookie of someone else is present too: the token decides, not the cookie.
        client = login_as(world["people"]["other learner"], app.test_client())
        response = client.open(path, method=method, json={}, headers=bearer(tokens[role]))
        error = (response.json or {}).get("error", {}) if response.is_json else {}
        assert error.get("code") != "csrf", f"{method} {path}: {response.status_code} {error}"
        assert response.status_code not in (401, 403, 500), f"{method} {path}"
        checked.append(path)
    assert len(checked) >= 15


class TestBehindTLS:
    @pytest.fixture
    def app_config(self) -> dict:
        return {"HTTPS": True}

    def test_over_https_a_form_from_another_site_is_refused(self, app, world, login_as):
        """Behind TLS Flask-WTF also compares the Referer with this site: a leaked token is not enough."""
        client = app.test_client()
        https = {"base_url": "https://manabi.example.org"}
        account = world["people"]["coordinator"]
        with client.session_transaction(**https) as session:
            session["_user_id"] = f"{account.id}.{account.session_version}"
            session["_fresh"] = True
        token = csrf_token_https(client)
        before = _counts(app)
        for referrer in ("https://evil.example.com/form", None):
            headers = {"Referer": referrer} if referrer else {}
            response = client.post(
                "/venues/new",
                data={"csrf_token": token, "name": "会場X", "online": "y", "active": "y"},
                headers=headers,
                **https,
            )
            assert response.status_code == 400, referrer
            # The API's session writes too, with the token in the header.
            response = client.post(
                "/api/v1/users",
                json={"email": "x@example.org", "name": "X", "role": "tutor"},
                headers={"X-CSRFToken": token, **headers},
                **https,
            )
            assert response.status_code == 400, referrer
            assert response.json["error"]["code"] == "csrf"
        assert _counts(app) == before
        # The same request from the site's own page is accepted: the browser sends its Referer.
        response = client.post(
            "/venues/new",
            data={"csrf_token": token, "name": "会場X", "online": "y", "active": "y"},
            headers={"Referer": "https://manabi.example.org/venues/new"},
            **https,
        )
        assert response.status_code in (200, 302, 303)
        response = client.post(
            "/api/v1/users",
            json={"email": "x@example.org", "name": "X", "role": "tutor"},
            headers={"X-CSRFToken": token, "Referer": "https://manabi.example.org/people"},
            **https,
        )
        assert response.status_code == 201
        # ...which it does only if the pages allow it: "no-referrer" would refuse every form.
        policy = client.get("/venues/new", **https).headers["Referrer-Policy"]
        assert policy in ("same-origin", "strict-origin-when-cross-origin", "origin")


def csrf_token_https(client) -> str:
    from tests.conftest import CSRF_FIELD

    html = client.get("/settings", base_url="https://manabi.example.org").get_data(as_text=True)
    return CSRF_FIELD.search(html).group(1)
