"""出发 in headless Chromium on a 390×844 phone: the volunteer (in 长辈版, every target 60 px)
taps 出发 with an ETA of 15 minutes, and the resident's page shows the volunteer on the way
with the expected arrival. Screenshots land in test-artifacts/."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from apps.dispatch import services as dispatch_services
from apps.dispatch.models import Offer, OfferStatus
from apps.notifications.models import Notification
from apps.service_requests import services as request_services
from apps.service_requests.models import ServiceRequest, Status
from tests.accounts.factories import PASSWORD
from tests.browser import PHONE, assert_fits_the_screen, new_page, shot
from tests.service_requests.factories import submit_request

pytestmark = [pytest.mark.browser]


def _log_in(page: Page, base_url: str, phone: str) -> None:
    page.goto(f"{base_url}/login/")
    page.get_by_label("手机号").fill(phone)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.get_by_role("button", name="退出")).to_be_visible()


def _height(page: Page, selector: str) -> float:
    box = page.locator(selector).bounding_box()
    assert box is not None, selector
    return box["height"]


def test_the_volunteer_taps_出发_with_an_eta_and_the_resident_sees_it(
    live_server, transactional_db, browser, cast, org
) -> None:
    base = live_server.url
    request = submit_request(requester=cast.resident, category=org["category"], village=org["village_a1"])
    request_services.request_review(request=request, actor=cast.staff_a, accept=True)
    (offer,) = dispatch_services.dispatch_directed(request=request, actor=cast.staff_a, volunteers=[cast.volunteer])
    dispatch_services.offer_accept(offer=offer, volunteer=cast.volunteer)

    # ---- the volunteer, in 长辈版
    volunteer_ctx, phone = new_page(browser, PHONE)
    _log_in(phone, base, cast.volunteer.user.phone)
    phone.goto(f"{base}/v/tasks/")
    phone.get_by_role("button", name="长辈版").click()
    expect(phone.locator("body")).to_have_class("elder")
    task = phone.locator(f"#task-{offer.id}")
    expect(task.locator(".status")).to_have_text("已接单")
    depart = task.get_by_role("button", name="出发", exact=True)
    expect(depart).to_be_visible()
    assert _height(phone, f"#task-{offer.id} form.depart button.primary") >= 60
    picks = task.locator("form.depart fieldset .actions label")
    expect(picks).to_have_count(3)
    for index in range(3):
        box = picks.nth(index).bounding_box()
        assert box is not None and box["height"] >= 60
    assert _height(phone, f"#task-{offer.id} input[name=eta_minutes]") >= 60
    assert_fits_the_screen(phone)
    shot(phone, "on-the-way-01-volunteer-accepted-elder")

    before = timezone.now()
    task.get_by_label("或填写分钟数").fill("15")
    depart.click()
    after = timezone.now()

    expect(phone.locator(".messages")).to_contain_text("已出发，已告知群众和工作人员。路上注意安全！")
    expect(task.locator(".status")).to_have_text("已出发")
    stored = Offer.objects.get(id=offer.id)
    assert (stored.status, stored.eta_minutes, stored.checked_in_at) == (OfferStatus.ON_THE_WAY, 15, None)
    assert stored.departed_at is not None
    arrival = timezone.localtime(stored.departed_at + timedelta(minutes=15)).strftime("%H:%M")
    expect(task.locator(".eta")).to_contain_text(f"预计 {arrival} 到达")
    expect(task.get_by_role("button", name="已到达，开始服务")).to_be_visible()
    assert _height(phone, f"#task-{offer.id} button.primary") >= 60
    assert ServiceRequest.objects.get(id=request.id).status == Status.ACCEPTED
    assert Notification.objects.filter(kind="on_the_way", recipient=cast.resident).count() == 1
    assert_fits_the_screen(phone)
    shot(phone, "on-the-way-02-volunteer-on-the-way-elder")

    # ---- the resident, on the standard layout
    resident_ctx, resident = new_page(browser, PHONE)
    _log_in(resident, base, cast.resident.phone)
    resident.goto(f"{base}/r/requests/{request.id}/")
    volunteers = resident.locator("main section.reach")
    expect(volunteers).to_contain_text(f"张*明（{cast.volunteer.volunteer_number}） 已出发")
    last = resident.locator("ol.timeline li").last
    expect(last.locator("strong")).to_have_text("已出发")
    expect(last).to_contain_text("志愿者已出发，预计15分钟到达")
    expect(last).to_contain_text(f"张*明（{cast.volunteer.volunteer_number}） · 约 {arrival} 到达")
    assert before - timedelta(seconds=1) <= stored.departed_at <= after + timedelta(seconds=1)
    assert_fits_the_screen(resident)
    shot(resident, "on-the-way-03-resident-timeline")

    # ---- arriving from on the way
    task.get_by_role("button", name="已到达，开始服务").click()
    expect(phone.locator(".messages")).to_contain_text("已签到，服务计时开始。")
    expect(task.locator(".status")).to_have_text("服务中")
    assert Offer.objects.get(id=offer.id).status == OfferStatus.IN_SERVICE

    for page in (phone, resident):
        assert page.errors == []  # type: ignore[attr-defined]
    volunteer_ctx.close()
    resident_ctx.close()
