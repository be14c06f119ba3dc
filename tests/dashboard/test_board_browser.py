"""The live board and the KPI page in headless Chromium on a desktop: a new request appears
within the refresh interval without a reload and under the chosen filter, the SLA state turns
amber then red as time passes, a township office sees only its township, and axe-core finds
nothing serious or critical on the board, the KPI page, the scorecards and the reports."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from apps.dashboard.facts import facts_refresh
from apps.service_requests.models import ServiceRequest
from tests.accounts.factories import PASSWORD
from tests.browser import DESKTOP, new_page, serious_axe_findings, shot
from tests.service_requests.factories import submit_request

from .fixture import build_month

pytestmark = [pytest.mark.browser]


def _log_in(page: Page, base_url: str, phone: str) -> None:
    page.goto(f"{base_url}/login/")
    page.locator("#id_username").fill(phone)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("#id_password").press("Enter")
    expect(page.locator("form[action='/logout/'] button")).to_be_visible()


def _age(request: ServiceRequest, **delta: float) -> None:
    """Move time for one request: it was submitted ``delta`` ago."""
    ServiceRequest.objects.filter(id=request.id).update(created_at=timezone.now() - timedelta(**delta))


def test_the_board_refreshes_itself_keeps_its_filter_and_shows_the_sla(
    live_server, transactional_db, browser, cast, org, settings
) -> None:
    settings.DASHBOARD_BOARD_REFRESH_SECONDS = 1
    base = live_server.url
    context, page = new_page(browser, DESKTOP)
    _log_in(page, base, cast.dispatcher.phone)
    page.goto(f"{base}/s/board/")
    expect(page.locator("#waiting")).to_contain_text("没有需要人工处理的工单。")
    page.evaluate("window.loadedOnce = 'yes'")  # gone if the page reloads

    # The centre narrows the board to township A; the filter is kept by every refresh.
    page.get_by_label("乡镇/街道").select_option(label="桃园街道")
    in_a = submit_request(requester=cast.resident, category=org["category"], village=org["village_a1"])
    in_b = submit_request(requester=cast.resident, category=org["other_category"], village=org["village_b1"])
    row = page.locator(f'#waiting tr[data-request="{in_a.id}"]')
    expect(row).to_be_visible(timeout=5_000)
    expect(row).to_have_attribute("data-sla", "green")
    expect(row).to_contain_text("正常")
    page.wait_for_timeout(2_500)  # two more refreshes
    expect(page.locator(f'#waiting tr[data-request="{in_b.id}"]')).to_have_count(0)
    expect(page.get_by_label("乡镇/街道")).to_have_value(str(org["township_a"].id))
    assert page.evaluate("window.loadedOnce") == "yes"

    # Time passes: half of the normal 24 h limit turns it amber, the limit itself red.
    _age(in_a, hours=12, minutes=1)
    expect(row).to_have_attribute("data-sla", "amber", timeout=5_000)
    expect(row).to_contain_text("临近超时")
    _age(in_a, hours=24, minutes=1)
    expect(row).to_have_attribute("data-sla", "red", timeout=5_000)
    expect(row).to_contain_text("已超时")
    expect(page.locator("#waiting .meta")).to_have_text("正常 0 · 临近超时 0 · 已超时 1")
    assert page.evaluate("window.loadedOnce") == "yes"
    assert page.errors == []  # type: ignore[attr-defined]
    shot(page, "dashboard-board")
    assert serious_axe_findings(page) == []
    context.close()

    # Township B's office sees its own request only, whatever it asks for.
    context, page = new_page(browser, DESKTOP)
    _log_in(page, base, cast.staff_b.phone)
    page.goto(f"{base}/s/board/")
    expect(page.locator(f'#waiting tr[data-request="{in_b.id}"]')).to_be_visible()
    expect(page.locator(f'#waiting tr[data-request="{in_a.id}"]')).to_have_count(0)
    expect(page.get_by_label("乡镇/街道").locator("option")).to_have_text(["全部", "码头镇"])
    page.goto(f"{base}/s/board/?township={org['township_a'].id}")
    expect(page.locator(".error")).to_contain_text("不存在或不在您的管辖范围内。")
    context.close()


@pytest.mark.parametrize("locale", ["zh-CN", "en-US"])
def test_kpi_scorecards_and_reports_pages(live_server, transactional_db, browser, cast, org, locale) -> None:
    build_month(cast, org)
    facts_refresh()
    base = live_server.url
    context, page = new_page(browser, {**DESKTOP, "locale": locale})
    _log_in(page, base, cast.dispatcher.phone)
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hans" if locale == "zh-CN" else "en")
    page.goto(f"{base}/s/kpi/?start=2026-11-01&end=2026-11-30")
    expect(page.locator("#kpi-submitted")).to_have_text("5")
    expect(page.locator("#kpi-completed")).to_have_text("2")
    # Every chart is drawn (ECharts' SVG) and has its table and download.
    charts = page.locator("[data-chart]")
    expect(charts).to_have_count(7)
    for i in range(7):
        expect(charts.nth(i).locator("svg")).to_have_count(1)
    page.locator("#section-durations summary").click()
    expect(page.locator("#section-durations tbody tr").first).to_contain_text("10.0")
    assert page.errors == []  # type: ignore[attr-defined]
    shot(page, f"dashboard-kpi-{locale}")
    assert serious_axe_findings(page) == []
    with page.expect_download() as download:
        page.locator("#section-by_township a[href*='section=by_township']").click()
    assert download.value.suggested_filename == "kpi-20261101-20261130-by_township.xlsx"

    page.goto(f"{base}/s/scorecards/?level=volunteer&period=month&month=2026-11")
    expect(page.locator("#ranking tbody tr")).to_have_count(2)
    expect(page.locator("#ranking tbody tr").first).to_contain_text("张*明")
    assert serious_axe_findings(page) == []
    page.goto(f"{base}/s/reports/")
    assert serious_axe_findings(page) == []
    context.close()
