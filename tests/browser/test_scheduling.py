"""Scheduling in Chromium: a coordinator books a weekly series; a learner's phone shows the next session."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.browser.conftest import PHONE, check_accessibility, no_horizontal_scroll, screenshot
from tests.conftest import tokyo
from tutoring.database import utcnow
from tutoring.extensions import db
from tutoring.scheduling.models import TutoringSession

pytestmark = pytest.mark.browser


def sign_in(page, base_url, account):
    page.goto(f"{base_url}/login")
    page.get_by_label("メールアドレスまたはログイン名").fill(account.email)
    page.get_by_label("パスワード").fill(account.password)
    page.get_by_role("button", name="サインイン").click()
    page.wait_for_url(f"{base_url}/**")


def test_coordinator_books_a_weekly_series_through_the_form(app, live_server, new_page, program):
    page = new_page()
    sign_in(page, live_server, program.coordinator)
    page.goto(f"{live_server}/sessions/new")
    check_accessibility(page)
    page.get_by_label("学習者", exact=True).select_option(label="田中 陽向")
    page.get_by_label("学習支援員", exact=True).select_option(label="鈴木 健一")
    page.get_by_label("会場で対面").check()
    page.get_by_label("会場", exact=True).select_option(label="中央公民館")
    page.get_by_label("日付").fill("2027-01-05")
    page.get_by_label("開始時刻").fill("16:00")
    page.get_by_label("毎週繰り返す（終了日）").fill("2027-02-02")
    page.get_by_role("button", name="登録する").click()
    page.wait_for_url(f"{live_server}/schedule?week=2027-01-05")
    assert "毎週の予定を5件登録しました。" in page.get_by_role("status").first.inner_text()
    check_accessibility(page)
    screenshot(page, "schedule-week-desktop")
    with app.app_context():
        starts = [
            s.starts_at
            for s in db.session.query(TutoringSession).order_by(TutoringSession.starts_at)
        ]
    assert starts == [tokyo(2027, 1, 5, 16, 0) + timedelta(weeks=n) for n in range(5)]

    # The same form refuses a clash and names it.
    page.goto(f"{live_server}/sessions/new")
    page.get_by_label("学習者", exact=True).select_option(label="伊藤 蓮")
    page.get_by_label("学習支援員", exact=True).select_option(label="鈴木 健一")
    page.get_by_label("日付").fill("2027-01-12")
    page.get_by_label("開始時刻").fill("17:00")
    page.get_by_role("button", name="登録する").click()
    assert "登録しませんでした" in page.get_by_role("alert").first.inner_text()
    check_accessibility(page)


def test_learner_sees_the_next_session_card_on_a_phone(live_server, new_page, program, book):
    book(utcnow().replace(microsecond=0) + timedelta(minutes=10))
    book(utcnow().replace(microsecond=0) + timedelta(days=7))
    page = new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    sign_in(page, live_server, program.learner)
    card = page.get_by_role("region", name="次の学習")
    assert card.is_visible()
    assert "鈴木 健一 さんと" in card.inner_text()
    join = card.get_by_role("link", name="ルームに入る")
    assert join.is_visible()
    box = join.bounding_box()
    assert box["height"] >= 44  # a thumb-sized button
    assert box["width"] > 300
    assert no_horizontal_scroll(page)
    check_accessibility(page)
    screenshot(page, "learner-home-phone")
