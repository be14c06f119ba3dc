"""Reach on a 390×844 phone in headless Chromium: the resident's request page names who is
coming and when, and its call buttons are real ``tel:`` links whose names say whom they call,
with no serious axe finding, in the normal layout and in 长辈版."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from apps.dispatch.services import offer_depart
from tests.accounts.factories import PASSWORD
from tests.browser import PHONE, assert_fits_the_screen, elder_offenders, new_page, serious_axe_findings, shot
from tests.workflow.test_reach import OFFICE_A_HOTLINE, accepted, hotlines, opt_in, submitted

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _log_in(page: Page, base: str, phone: str) -> None:
    page.goto(f"{base}/login/")
    page.locator("#id_username").fill(phone)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("main button[type=submit]").first.click()
    expect(page).to_have_url(f"{base}/r/requests/")


def _reach(page: Page):
    return page.locator("section.reach")


def test_the_resident_calls_the_volunteer_who_agreed_and_sees_when_they_arrive(
    live_server, browser, client, cast, org
) -> None:
    hotlines(org)
    reach = accepted(cast, org)
    assert reach.offer is not None
    opt_in(client, cast, org)
    offer = offer_depart(offer=reach.offer, volunteer=cast.volunteer, eta_minutes=25)
    assert offer.departed_at is not None
    arrives = timezone.localtime(offer.departed_at + timedelta(minutes=25))
    phone = cast.volunteer.user.phone
    base = live_server.url

    context, page = new_page(browser, PHONE)
    _log_in(page, base, cast.resident.phone)
    page.goto(f"{base}{reach.page}")

    section = _reach(page)
    expect(section.get_by_role("heading", level=2)).to_have_text("联系服务人员")
    expect(section.locator(".reach-volunteer .status")).to_have_text("已出发")
    expect(section.locator(".eta")).to_have_text(f"预计 {arrives:%H:%M} 到达")
    calls = section.get_by_role("link")
    expect(calls).to_have_count(2)
    volunteer_call = section.get_by_role("link", name=f"打电话给志愿者 张*明：{phone}", exact=True)
    expect(volunteer_call).to_have_attribute("href", f"tel:{phone}")
    expect(volunteer_call).to_have_text(f"打电话给志愿者 张*明：{phone}")
    hotline_call = section.get_by_role("link", name=f"拨打服务站热线 {OFFICE_A_HOTLINE}", exact=True)
    expect(hotline_call).to_have_attribute("href", f"tel:{OFFICE_A_HOTLINE}")
    box = volunteer_call.bounding_box()
    assert box is not None and box["height"] >= 44 and box["width"] >= 300  # a big button, the full width
    assert serious_axe_findings(page) == []
    assert_fits_the_screen(page)
    assert page.errors == []  # type: ignore[attr-defined]
    shot(page, "reach-01-call-the-volunteer")

    page.get_by_role("button", name="长辈版").click()
    expect(page.locator("body")).to_have_class("elder")
    expect(page).to_have_url(f"{base}{reach.page}")
    assert elder_offenders(page) == []
    assert serious_axe_findings(page) == []
    assert_fits_the_screen(page)
    shot(page, "reach-02-call-the-volunteer-elder")
    context.close()


def test_before_a_volunteer_the_resident_calls_the_stations_hotline(live_server, browser, cast, org) -> None:
    hotlines(org)
    reach = submitted(cast, org)
    base = live_server.url
    context, page = new_page(browser, PHONE)
    _log_in(page, base, cast.resident.phone)
    page.goto(f"{base}{reach.page}")

    section = _reach(page)
    expect(section.locator("p.hotline")).to_have_text("有疑问请拨打服务站热线：")
    call = section.get_by_role("link")
    expect(call).to_have_count(1)
    expect(call).to_have_text(f"拨打服务站热线 {OFFICE_A_HOTLINE}")
    expect(call).to_have_accessible_name(f"拨打服务站热线 {OFFICE_A_HOTLINE}")
    expect(call).to_have_attribute("href", f"tel:{OFFICE_A_HOTLINE}")
    assert serious_axe_findings(page) == []
    assert_fits_the_screen(page)
    shot(page, "reach-03-hotline-before-a-volunteer")
    context.close()
