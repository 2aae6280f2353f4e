"""The home-screen app in Chromium on a phone: manifest, service worker, offline page, settings.

Here rather than in tests/notify/ because Chromium is one session fixture of this folder.
"""

from __future__ import annotations

import pytest
from flask_babel import force_locale
from flask_babel import gettext as _

from tests.browser.conftest import PHONE, check_accessibility, no_horizontal_scroll, screenshot
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def app_config():
    from tutoring.notify.channels.webpush import generate_private_pem

    return {"VAPID_PRIVATE_KEY": generate_private_pem().decode()}


def sign_in(page, base_url: str, account) -> None:
    page.goto(f"{base_url}/login")
    page.get_by_label("メールアドレスまたはログイン名").fill(account.email)
    page.get_by_label("パスワード").fill(PASSWORD)
    page.get_by_role("button", name="サインイン").click()
    page.wait_for_url(f"{base_url}/")


def in_japanese(app, text: str, **values) -> str:
    with app.test_request_context(), force_locale("ja"):
        return _(text, **values)


def test_the_app_installs_on_a_phone_and_works_offline(app, live_server, new_page, program):
    page = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("response", lambda r: problems.append(r.url) if r.status >= 400 else None)
    sign_in(page, live_server, program.learner)

    # The manifest is linked, allowed by the CSP, and names the app in Japanese.
    manifest = page.evaluate(
        "async () => (await fetch(document.querySelector('link[rel=manifest]').href)).json()"
    )
    assert manifest["name"] == "Manabi まなび"
    assert manifest["start_url"].startswith("/")

    # The service worker registers for the whole site and takes control of the page.
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    scope = page.evaluate("async () => (await navigator.serviceWorker.ready).scope")
    assert scope == f"{live_server}/"
    assert problems == []

    # The settings tab: the device panel says whether notifications are on.
    page.goto(f"{live_server}/settings/notifications")
    status = page.locator(".push-status")
    off = in_japanese(app, "Notifications are off for this device.")
    unsupported = in_japanese(
        app,
        "This browser cannot show notifications. On an iPhone, add Manabi to the home screen first (Share, then Add to Home Screen) and open it from there.",
    )
    page.wait_for_function(
        "(texts) => texts.includes(document.querySelector('.push-status').textContent)",
        arg=[off, unsupported],
    )
    assert status.inner_text() in (off, unsupported)
    assert no_horizontal_scroll(page)
    check_accessibility(page)
    screenshot(page, "notifications-settings-phone-ja")

    # Without a connection, the phone shows the offline page instead of the browser's error.
    page.context.set_offline(True)
    page.goto(f"{live_server}/schedule")
    heading = page.get_by_role("heading", level=1)
    assert heading.inner_text() == in_japanese(app, "No connection")
    check_accessibility(page)
    screenshot(page, "offline-phone-ja")
    page.context.set_offline(False)


def test_the_delivery_log_on_a_phone(app, live_server, new_page, program):
    page = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    sign_in(page, live_server, program.coordinator)
    page.goto(f"{live_server}/notifications/log")
    assert page.get_by_role("heading", level=1).inner_text() == in_japanese(app, "Delivery log")
    check_accessibility(page)
    screenshot(page, "delivery-log-phone-ja")
