"""Journeys through the browser: sign in, language switch, phone layout, invitation."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import PHONE, check_accessibility, no_horizontal_scroll, screenshot
from tutoring.demo import DEMO_PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def demo(runner):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output


def sign_in(page, base_url, email, password):
    page.goto(f"{base_url}/login")
    check_accessibility(page)
    page.get_by_label("メールアドレスまたはログイン名").fill(email)
    page.get_by_label("パスワード").fill(password)
    page.get_by_role("button", name="サインイン").click()


def test_coordinator_signs_in_in_japanese_and_switches_to_english(demo, live_server, new_page):
    page = new_page()
    sign_in(page, live_server, "coordinator@example.org", DEMO_PASSWORD)
    heading = page.get_by_role("heading", level=1)
    assert heading.inner_text() == "こんにちは、佐藤 恵美 さん"
    assert page.locator("html").get_attribute("lang") == "ja"
    assert (
        page.get_by_role("navigation", name="メイン")
        .get_by_role("link", name="利用者", exact=True)
        .is_visible()
    )
    check_accessibility(page)
    screenshot(page, "dashboard-coordinator-desktop-ja")

    page.get_by_role("button", name="English").click()
    page.wait_for_url(f"{live_server}/")
    assert heading.inner_text() == "Hello, 佐藤 恵美"
    assert page.locator("html").get_attribute("lang") == "en"
    assert (
        page.get_by_role("navigation", name="Main")
        .get_by_role("link", name="People", exact=True)
        .is_visible()
    )
    check_accessibility(page)
    # The choice is kept on the account: a new sign-in elsewhere is in English too.
    other = new_page()
    sign_in(other, live_server, "coordinator@example.org", DEMO_PASSWORD)
    assert other.get_by_role("heading", level=1).inner_text() == "Hello, 佐藤 恵美"


def test_phone_sign_in_has_no_horizontal_scrolling(demo, live_server, new_page):
    page = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    sign_in(page, live_server, "coordinator@example.org", DEMO_PASSWORD)
    assert page.get_by_role("heading", level=1).inner_text() == "こんにちは、佐藤 恵美 さん"
    assert no_horizontal_scroll(page)
    check_accessibility(page)
    screenshot(page, "dashboard-coordinator-phone-ja")

    # The navigation folds into a menu on a phone and opens with one tap.
    people_link = page.get_by_role("navigation", name="メイン").get_by_role(
        "link", name="利用者", exact=True
    )
    assert not people_link.is_visible()
    page.get_by_role("button", name="メニュー").tap()
    assert people_link.is_visible()
    check_accessibility(page)
    screenshot(page, "menu-open-phone-ja")
    people_link.tap()
    page.wait_for_url(f"{live_server}/people")
    assert no_horizontal_scroll(page)
    check_accessibility(page)
    screenshot(page, "people-phone-ja")


def test_learner_accepts_invitation_on_a_phone(demo, live_server, new_page):
    coordinator = new_page()
    sign_in(coordinator, live_server, "coordinator@example.org", DEMO_PASSWORD)
    coordinator.goto(f"{live_server}/people/new")
    check_accessibility(coordinator)
    coordinator.get_by_label("名前").fill("小林 葵")
    coordinator.get_by_label("役割").select_option("learner")
    coordinator.get_by_role("button", name="アカウントを作成").click()
    link = coordinator.get_by_label("リンク").input_value()
    assert re.fullmatch(rf"{live_server}/invite/[\w-]+", link)
    check_accessibility(coordinator)

    learner = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    learner.goto(link)
    assert learner.get_by_role("heading", level=1).inner_text() == "ようこそ、小林 葵 さん"
    check_accessibility(learner)
    screenshot(learner, "invitation-phone-ja")
    learner.get_by_label("ログイン名").fill("aoi.k")
    learner.get_by_label("新しいパスワード", exact=True).fill("aoi's long password")
    learner.get_by_label("新しいパスワード（確認）").fill("aoi's long password")
    learner.get_by_role("button", name="パスワードを設定する").click()
    assert learner.get_by_role("heading", level=1).inner_text() == "こんにちは、小林 葵 さん"
    assert no_horizontal_scroll(learner)
    check_accessibility(learner)
    screenshot(learner, "dashboard-learner-phone-ja")


def test_wrong_password_message_is_announced(demo, live_server, new_page):
    page = new_page(viewport=PHONE)
    sign_in(page, live_server, "coordinator@example.org", "wrong password")
    alert = page.get_by_role("alert")
    assert "正しくありません" in alert.inner_text()
    check_accessibility(page)
    screenshot(page, "login-error-phone-ja")
