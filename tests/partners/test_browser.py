"""In Chromium: a school's liaison refers a student from a phone; the coordinator accepts the
referral on a desktop and records what the student agreed to share; the liaison sees it."""

from __future__ import annotations

from datetime import date

import pytest

from tests.browser.conftest import (
    DESKTOP,
    PHONE,
    check_accessibility,
    no_horizontal_scroll,
    screenshot,
)

pytestmark = pytest.mark.browser


def sign_in(page, base_url, account, landing: str) -> None:
    page.goto(f"{base_url}/login")
    page.get_by_label("メールアドレスまたはログイン名").fill(account.email)
    page.get_by_label("パスワード").fill(account.password)
    page.get_by_role("button", name="サインイン").click()
    page.wait_for_url(f"{base_url}{landing}")


def test_liaison_refers_on_a_phone_and_the_coordinator_accepts(
    app, live_server, new_page, program, partners
):
    phone = new_page(viewport=PHONE)
    sign_in(phone, live_server, partners.liaison, "/partners")
    check_accessibility(phone)
    assert no_horizontal_scroll(phone)
    phone.get_by_role("link", name="生徒をつなぐ").click()
    phone.wait_for_url(f"{live_server}/partners/referrals/new")
    check_accessibility(phone)
    assert no_horizontal_scroll(phone)
    # Sending without the situation names the field and keeps what was typed.
    phone.get_by_label("生徒の名前").fill("青木 翔")
    phone.get_by_label("学年").fill("全日制2年")
    phone.get_by_role("button", name="つなぎを送る").click()
    assert phone.locator("#situation-error").is_visible()
    assert phone.get_by_label("生徒の名前").input_value() == "青木 翔"
    check_accessibility(phone)
    phone.get_by_label("状況").fill("5月から欠席が続き、進級が難しい。本人は勉強を続けたい。")
    phone.get_by_label("これまでの取り組み").fill("担任の家庭訪問を2回")
    phone.get_by_label("生徒への連絡方法").fill("担任経由。母親の携帯に電話可。")
    phone.get_by_label("保護者はつなぎに同意している").check()
    screenshot(phone, "partners-referral-form-phone")
    phone.get_by_role("button", name="つなぎを送る").click()
    phone.wait_for_url(f"{live_server}/partners/referrals/*")
    referral_url = phone.url
    assert phone.get_by_text("事業の判断待ち").first.is_visible()
    check_accessibility(phone)
    assert no_horizontal_scroll(phone)
    screenshot(phone, "partners-referral-sent-phone")

    desk = new_page(viewport=DESKTOP)
    sign_in(desk, live_server, program.coordinator, "/")
    desk.get_by_role("link", name="連携機関").click()
    desk.wait_for_url(f"{live_server}/partners")
    check_accessibility(desk)
    desk.get_by_role("link", name="青木 翔").click()
    check_accessibility(desk)
    desk.get_by_label("受け入れる（学習者の記録を作成）").check()
    desk.get_by_role("button", name="判断を記録する").click()
    desk.wait_for_load_state()
    assert desk.locator(".badge-referral-accepted").is_visible()
    # The student and, as their age is not recorded, the guardian agreed to share one thing.
    desk.get_by_label("学校に復帰").check()
    desk.get_by_label("学習者が同意した日").fill(date.today().isoformat())
    desk.get_by_role("button", name="同意を記録する").click()
    assert desk.locator(".form-errors, #guardian_name-error").first.is_visible()
    desk.get_by_label("保護者", exact=True).fill("母")
    desk.get_by_label("保護者が同意した日").fill(date.today().isoformat())
    desk.get_by_role("button", name="同意を記録する").click()
    desk.wait_for_load_state()
    assert desk.get_by_text("有効", exact=True).is_visible()
    check_accessibility(desk)
    screenshot(desk, "partners-referral-coordinator")
    desk.goto(f"{live_server}/partners/council?kind=school&since=2020-01-01")
    check_accessibility(desk)
    desk.emulate_media(media="print")
    screenshot(desk, "partners-council-print")

    phone.goto(referral_url)
    assert phone.locator(".badge-referral-accepted").is_visible()
    facts = phone.locator(".shared-facts").inner_text()
    assert "学校に復帰" in facts
    assert "出席率" not in facts
    check_accessibility(phone)
    screenshot(phone, "partners-referral-accepted-phone")


def test_coordinator_pages_and_the_liaisons_answer_pass_axe(
    app, live_server, new_page, program, partners, submit
):
    from tutoring.extensions import db
    from tutoring.partners import service
    from tutoring.partners.models import Referral
    from tutoring.people.models import User

    referral_id = submit(partners.liaison)
    with app.app_context():
        coordinator = db.session.get(User, program.coordinator.id)
        service.ask_for_more(coordinator, db.session.get(Referral, referral_id), "登校の状況は？")
        db.session.commit()

    desk = new_page(viewport=DESKTOP)
    sign_in(desk, live_server, program.coordinator, "/")
    for path, name in (
        ("/partners/organisations", "partners-organisations"),
        (f"/partners/organisations/{partners.school_id}", "partners-organisation"),
        (f"/partners/learners/{program.learner.id}/referrals-out", "partners-referral-out"),
    ):
        desk.goto(f"{live_server}{path}")
        check_accessibility(desk)
        screenshot(desk, name)

    phone = new_page(viewport=PHONE)
    sign_in(phone, live_server, partners.liaison, "/partners")
    phone.goto(f"{live_server}/partners/referrals/{referral_id}")
    assert phone.get_by_text("登校の状況は？").is_visible()
    phone.get_by_role("textbox", name="回答").fill("週に1日は登校しています。")
    phone.get_by_role("button", name="送信", exact=True).click()
    phone.wait_for_load_state()
    assert phone.locator(".badge-referral-submitted").is_visible()
    check_accessibility(phone)
    assert no_horizontal_scroll(phone)
    screenshot(phone, "partners-answer-phone")
