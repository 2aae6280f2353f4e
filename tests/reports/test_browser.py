"""The report in Chromium: the coordinator's one click from the menu, on a desktop and a phone,
in Japanese, checked by axe, and printed on A4."""

from __future__ import annotations

import pytest

from tests.browser.conftest import (
    ARTIFACTS,
    DESKTOP,
    PHONE,
    check_accessibility,
    no_horizontal_scroll,
    screenshot,
)

pytestmark = pytest.mark.browser


def sign_in(page, base_url, account):
    page.goto(f"{base_url}/login")
    page.get_by_label("メールアドレスまたはログイン名").fill(account.email)
    page.get_by_label("パスワード").fill(account.password)
    page.get_by_role("button", name="サインイン").click()
    page.wait_for_url(f"{base_url}/")


def test_coordinator_opens_the_year_and_traces_a_figure(live_server, new_page, published_case):
    page = new_page(viewport=DESKTOP, locale="ja-JP")
    sign_in(page, live_server, published_case.coordinator)
    page.get_by_role("link", name="事業報告", exact=True).click()
    page.wait_for_url(f"{live_server}/reports/program")
    page.get_by_role("combobox", name="年度（4月〜3月）").select_option("2025")
    page.get_by_role("button", name="年度で表示").click()
    page.wait_for_url("**/reports/program?fiscal_year=2025")
    assert page.get_by_role("heading", name="事業報告 2025年度（令和7年度）").is_visible()
    figures = page.get_by_role("table", name="集計")
    totals = figures.get_by_role("row", name="延べ件数")  # consultations, then study sessions
    assert totals.nth(0).inner_text().endswith("28")
    assert totals.nth(1).inner_text().endswith("219")
    assert page.get_by_role("img", name="月別の学習支援実施回数").is_visible()
    check_accessibility(page)
    screenshot(page, "report-desktop")

    # The 20 continuing learners behind the figure.
    figures.get_by_role("row", name="前年度からの継続").get_by_role("link").click()
    page.wait_for_url("**/reports/program/learners?figure=continuing*")
    assert page.get_by_text("20人").is_visible()
    assert page.get_by_role("table").locator("tbody tr").count() == 20
    check_accessibility(page)


def test_the_report_fits_a_phone_and_prints_on_a4(live_server, new_page, published_case):
    page = new_page(viewport=PHONE, locale="ja-JP", is_mobile=True, has_touch=True)
    sign_in(page, live_server, published_case.coordinator)
    page.goto(f"{live_server}/reports/program?fiscal_year=2025")
    assert page.get_by_role("img", name="会場別の学習者数").is_visible()
    assert no_horizontal_scroll(page)
    check_accessibility(page)
    screenshot(page, "report-phone")

    page.emulate_media(media="print")
    assert not page.locator("#main-nav").is_visible()
    assert not page.get_by_role("button", name="年度で表示").is_visible()
    assert page.get_by_role("table", name="集計").is_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    pdf = page.pdf(path=str(ARTIFACTS / "report-a4.pdf"), prefer_css_page_size=True)
    assert pdf.startswith(b"%PDF")
