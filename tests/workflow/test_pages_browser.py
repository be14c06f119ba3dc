"""The core loop through the server-rendered pages in headless Chromium: the resident and the
volunteer on phones, the staff member on a desktop. Screenshots of every phone page land in
test-artifacts/ for a human to look at."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from apps.dispatch import services as dispatch_services
from apps.dispatch.models import Offer, OfferStatus
from apps.ratings.models import Rating
from apps.service_requests import services as request_services
from apps.service_requests.models import RequestEvent, ServiceRequest, Status
from tests.accounts.factories import PASSWORD
from tests.browser import DESKTOP, PHONE, assert_fits_the_screen, new_page, shot
from tests.service_requests.factories import submit_request

pytestmark = [pytest.mark.browser]


TITLE, ADDRESS, PHONE_NUMBER = "帮忙修理漏水的水龙头", "太平庄村东街12号", "13912345678"


def _log_in(page: Page, base_url: str, phone: str) -> None:
    page.goto(f"{base_url}/login/")
    expect(page.locator("h1")).to_have_text("登录")
    page.get_by_label("手机号").fill(phone)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.get_by_role("button", name="退出")).to_be_visible()


def _messages(page: Page) -> str:
    return page.locator(".messages").inner_text()


def _status(page: Page) -> str:
    return page.locator("main span.status").first.inner_text()


def _timeline(page: Page) -> list[str]:
    return page.locator("ol.timeline li strong").all_inner_texts()


def _events(request_id: int) -> list[str]:
    return list(RequestEvent.objects.filter(request_id=request_id).values_list("to_status", flat=True))


def test_the_whole_loop_through_the_pages(live_server, transactional_db, browser, cast, org) -> None:
    base = live_server.url
    volunteer = cast.volunteer

    # ---- 点单: the resident on a phone
    resident_ctx, resident = new_page(browser, PHONE)
    _log_in(resident, base, cast.resident.phone)
    expect(resident).to_have_url(f"{base}/r/requests/")
    expect(resident.locator("h1")).to_have_text("我的需求")
    expect(resident.locator("main")).to_contain_text("您还没有提交过需求。")
    assert_fits_the_screen(resident)
    shot(resident, "01-resident-my-requests")

    resident.get_by_role("link", name="我要点单").click()
    expect(resident.locator("h1")).to_have_text("我要点单")
    resident.get_by_label("需要什么服务").select_option(label="便民服务")
    resident.get_by_label("标题").fill(TITLE)
    resident.get_by_label("详细说明").fill("厨房水龙头一直滴水，老两口拧不动。")
    resident.get_by_label("所在村/社区").select_option(label="太平庄村")
    resident.get_by_label("详细地址").fill(ADDRESS)
    expect(resident.get_by_label("联系人")).to_have_value("王秀兰")
    resident.get_by_label("联系电话").fill(PHONE_NUMBER)
    assert_fits_the_screen(resident)
    shot(resident, "02-resident-new-request")
    resident.get_by_role("button", name="提交需求").click()

    expect(resident.locator(".messages")).to_contain_text("需求已提交，我们会尽快处理。")
    created = ServiceRequest.objects.get()
    expect(resident).to_have_url(f"{base}/r/requests/{created.id}/")
    assert _status(resident) == "已提交"
    assert _timeline(resident) == ["已提交"]
    assert (created.requester, created.station, created.status, created.channel) == (
        cast.resident,
        org["station_a1"],
        Status.SUBMITTED,
        "web",
    )
    assert (created.address, created.contact_phone, created.category) == (ADDRESS, PHONE_NUMBER, org["category"])
    shot(resident, "03-resident-submitted")

    # ---- 审核 and 派单: staff of township A on a desktop
    staff_ctx, staff = new_page(browser, DESKTOP)
    _log_in(staff, base, cast.staff_a.phone)
    expect(staff).to_have_url(f"{base}/s/queue/")
    staff.get_by_role("link", name=TITLE).click()
    expect(staff).to_have_url(f"{base}/s/requests/{created.id}/")
    assert _status(staff) == "已提交"
    expect(staff.locator("main")).to_contain_text(PHONE_NUMBER)
    staff.get_by_role("button", name="受理", exact=True).click()
    expect(staff.locator(".messages")).to_contain_text("已受理，进入待派单。")
    assert _status(staff) == "待派单"
    assert ServiceRequest.objects.get(id=created.id).status == Status.QUEUED

    # The candidate list defaults to the request's category and township: both volunteers of A.
    candidates = staff.locator("#dispatch label.check")
    expect(candidates).to_have_count(2)
    staff.get_by_label(re.compile(volunteer.volunteer_number)).check()
    staff.get_by_role("button", name="派单", exact=True).click()
    expect(staff.locator(".messages")).to_contain_text("已派单，等待志愿者接单。")
    assert _status(staff) == "已派单"
    offer = Offer.objects.get()
    assert (offer.request_id, offer.volunteer, offer.status, offer.offered_by) == (
        created.id,
        volunteer,
        OfferStatus.OFFERED,
        cast.staff_a,
    )
    assert ServiceRequest.objects.get(id=created.id).status == Status.OFFERED

    # ---- 接单: the volunteer on a phone
    volunteer_ctx, phone = new_page(browser, PHONE)
    _log_in(phone, base, volunteer.user.phone)
    expect(phone).to_have_url(f"{base}/v/offers/")
    card = phone.locator(f"#offer-{offer.id}")
    expect(card).to_contain_text(TITLE)
    expect(card).to_contain_text("桃园街道 · 太平庄村")
    # Before accepting, neither the address nor the phone is anywhere in the page.
    html = phone.content()
    assert ADDRESS not in html and PHONE_NUMBER not in html
    phone.goto(f"{base}/v/tasks/")
    expect(phone.locator("main")).to_contain_text("暂无进行中的任务。")
    html = phone.content()
    assert ADDRESS not in html and PHONE_NUMBER not in html
    phone.goto(f"{base}/v/offers/")
    assert_fits_the_screen(phone)
    shot(phone, "04-volunteer-offer")

    card.get_by_role("button", name="接单").click()
    expect(phone).to_have_url(f"{base}/v/tasks/")
    expect(phone.locator(".messages")).to_contain_text("接单成功！请按时前往服务。")
    task = phone.locator(f"#task-{offer.id}")
    expect(task.locator(".status")).to_have_text("已接单")
    expect(task.locator(".contact")).to_contain_text(ADDRESS)
    expect(task.get_by_role("link", name=PHONE_NUMBER)).to_have_attribute("href", f"tel:{PHONE_NUMBER}")
    assert Offer.objects.get(id=offer.id).status == OfferStatus.ACCEPTED
    assert ServiceRequest.objects.get(id=created.id).status == Status.ACCEPTED
    assert_fits_the_screen(phone)
    shot(phone, "05-volunteer-task-accepted")

    task.get_by_role("button", name="已到达，开始服务").click()
    expect(phone.locator(".messages")).to_contain_text("已签到，服务计时开始。")
    expect(task.locator(".status")).to_have_text("服务中")
    assert ServiceRequest.objects.get(id=created.id).status == Status.IN_SERVICE
    shot(phone, "06-volunteer-in-service")
    # An hour and a quarter of service, so the hours are not zero.
    Offer.objects.filter(id=offer.id).update(checked_in_at=timezone.now() - timedelta(hours=1, minutes=15))

    task.get_by_label("服务小结").fill("已更换阀芯，不再滴水。")
    task.get_by_role("button", name="完成服务").click()
    expect(phone.locator(".messages")).to_contain_text("服务已完成，辛苦了！")
    expect(phone.locator("main")).to_contain_text("暂无进行中的任务。")
    expect(phone.locator("main")).to_contain_text(f"{TITLE} · 1.5 小时")
    # The task is over: the contact data is gone from the volunteer's page.
    html = phone.content()
    assert ADDRESS not in html and PHONE_NUMBER not in html
    done = Offer.objects.get(id=offer.id)
    assert (done.status, done.hours, done.report) == (OfferStatus.COMPLETED, Decimal("1.5"), "已更换阀芯，不再滴水。")
    assert ServiceRequest.objects.get(id=created.id).status == Status.COMPLETED
    assert_fits_the_screen(phone)
    shot(phone, "07-volunteer-completed")

    # ---- 评单: the resident follows the timeline and rates
    resident.goto(f"{base}/r/requests/{created.id}/")
    assert _status(resident) == "已完成，待您评价"
    assert _timeline(resident) == ["已提交", "待派单", "已派单", "已接单", "服务中", "已完成"]
    expect(resident.locator("main")).to_contain_text(f"张*明（{volunteer.volunteer_number}）· 已完成 · 1.5 小时")
    assert_fits_the_screen(resident)
    shot(resident, "08-resident-completed")

    # Rating first: the call to action is at the top of the page, and the form is a page of its own.
    resident.get_by_role("link", name="去评价").click()
    expect(resident).to_have_url(f"{base}/r/requests/{created.id}/rate/")
    rate = resident.locator("#rate")
    rate.get_by_role("radio", name="非常满意", exact=True).check()
    rate.get_by_label("态度热情").check()
    rate.get_by_text("写几句话（可不写）").click()
    rate.get_by_label("评语").fill("小张很耐心，谢谢！")
    rate.get_by_role("button", name="提交评价").click()
    expect(resident).to_have_url(f"{base}/r/requests/{created.id}/")
    expect(resident.locator(".messages")).to_contain_text("已评价，感谢您的反馈！")
    assert _status(resident) == "已评价，感谢您的反馈"
    assert _timeline(resident) == ["已提交", "待派单", "已派单", "已接单", "服务中", "已完成", "已评价", "已关闭"]
    expect(resident.locator(".my-rating")).to_contain_text("非常满意 · 态度热情")
    expect(resident.locator("main")).to_contain_text("小张很耐心，谢谢！")
    expect(resident.get_by_role("link", name="去评价")).to_have_count(0)
    assert_fits_the_screen(resident)
    shot(resident, "09-resident-rated")

    rating = Rating.objects.get(request_id=created.id)
    assert (rating.score, rating.tags, rating.comment, rating.rated_by, rating.on_behalf) == (
        5,
        ["friendly"],
        "小张很耐心，谢谢！",
        cast.resident,
        False,
    )
    assert ServiceRequest.objects.get(id=created.id).status == Status.CLOSED
    assert _events(created.id) == [
        "submitted",
        "queued",
        "offered",
        "accepted",
        "in_service",
        "completed",
        "rated",
        "closed",
    ]

    resident.goto(f"{base}/r/requests/")
    expect(resident.locator("main li.card")).to_have_count(1)
    expect(resident.locator("main li.card .status")).to_have_text("已评价，感谢您的反馈")
    staff.goto(f"{base}/s/queue/?tab=done")
    expect(staff.get_by_role("row", name=re.compile(TITLE)).locator(".status")).to_have_text("已关闭")

    for page in (resident, staff, phone):
        assert page.errors == []  # type: ignore[attr-defined]
    for context in (resident_ctx, staff_ctx, volunteer_ctx):
        context.close()


def _body_font_px(page: Page) -> float:
    return float(page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)"))


def _primary_button_heights(page: Page) -> list[float]:
    return page.evaluate(
        "[...document.querySelectorAll('main button.primary, main .button.primary')]"
        ".map(el => el.getBoundingClientRect().height)"
    )


def _completed_request(cast, org) -> ServiceRequest:
    request = submit_request(requester=cast.resident, category=org["category"], village=org["village_a1"])
    request_services.request_review(request=request, actor=cast.staff_a, accept=True)
    (offer,) = dispatch_services.dispatch_directed(request=request, actor=cast.staff_a, volunteers=[cast.volunteer])
    dispatch_services.offer_accept(offer=offer, volunteer=cast.volunteer)
    dispatch_services.offer_check_in(offer=offer, volunteer=cast.volunteer)
    dispatch_services.offer_complete(offer=offer, volunteer=cast.volunteer)
    return ServiceRequest.objects.get(id=request.id)


def test_elder_mode_makes_text_and_buttons_large(live_server, transactional_db, browser, cast, org) -> None:
    base = live_server.url
    context, page = new_page(browser, PHONE)
    _log_in(page, base, cast.resident.phone)
    page.goto(f"{base}/r/requests/new/")
    assert _body_font_px(page) == 16
    assert all(h < 60 for h in _primary_button_heights(page))

    page.get_by_role("button", name="长辈版").click()
    expect(page).to_have_url(f"{base}/r/requests/new/")
    expect(page.locator("body")).to_have_class("elder")
    assert _body_font_px(page) >= 18
    line_height = page.evaluate("parseFloat(getComputedStyle(document.body).lineHeight)")
    assert line_height / _body_font_px(page) >= 1.3
    heights = _primary_button_heights(page)
    assert len(heights) == 1 and heights[0] >= 60
    assert_fits_the_screen(page)
    shot(page, "10-elder-new-request")

    # The choice is remembered from page to page.
    page.goto(f"{base}/r/requests/")
    expect(page.locator("body")).to_have_class("elder")
    heights = _primary_button_heights(page)
    assert len(heights) == 1 and heights[0] >= 60
    switch = page.get_by_role("button", name="长辈版")
    expect(switch).to_have_attribute("aria-pressed", "true")
    assert switch.bounding_box()["height"] >= 60  # type: ignore[index]
    assert_fits_the_screen(page)
    shot(page, "11-elder-my-requests")

    # The rating form: every score and tag row is a 60 px target; the controls keep their shape.
    request = _completed_request(cast, org)
    page.goto(f"{base}/r/requests/{request.id}/rate/")
    rows = page.locator("#rate fieldset label")
    expect(rows).to_have_count(11)  # five scores, six tags
    for box in (rows.nth(i).bounding_box() for i in range(11)):
        assert box is not None and box["height"] >= 60 and box["width"] >= 60
    for box in (page.locator(f"#rate input[type={kind}]").first.bounding_box() for kind in ("radio", "checkbox")):
        assert box is not None and 20 <= box["width"] <= 40 and 20 <= box["height"] <= 40
    assert_fits_the_screen(page)
    shot(page, "12-elder-rating-form")
    page.get_by_role("radio", name="满意", exact=True).check()
    page.get_by_role("button", name="提交评价").click()
    expect(page.locator(".messages")).to_contain_text("已评价，感谢您的反馈！")
    assert Rating.objects.get(request=request).score == 4

    page.get_by_role("button", name="长辈版").click()
    expect(page.locator("body")).not_to_have_class("elder")
    assert _body_font_px(page) == 16
    assert page.errors == []  # type: ignore[attr-defined]
    context.close()


def test_request_form_with_an_error_keeps_what_was_typed(live_server, transactional_db, browser, cast, org) -> None:
    base = live_server.url
    context, page = new_page(browser, PHONE)
    _log_in(page, base, cast.resident.phone)
    page.goto(f"{base}/r/requests/new/")
    page.get_by_label("需要什么服务").select_option(label="便民服务")
    page.get_by_label("标题").fill(TITLE)
    page.get_by_label("详细说明").fill("厨房水龙头一直滴水。")
    page.get_by_label("所在村/社区").select_option(label="太平庄村")
    page.get_by_label("详细地址").fill(ADDRESS)
    page.get_by_label("联系电话").fill("12345")
    page.get_by_label("希望开始时间").fill("2030-01-02T09:00")
    page.get_by_label("希望结束时间").fill("2030-01-02T11:30")
    page.get_by_role("button", name="提交需求").click()

    expect(page.get_by_role("alert")).to_have_text("请输入手机号码或带区号的固定电话。")
    expect(page.get_by_label("标题")).to_have_value(TITLE)
    expect(page.get_by_label("所在村/社区").locator("option:checked")).to_have_text("太平庄村")
    expect(page.get_by_label("希望开始时间")).to_have_value("2030-01-02T09:00")
    expect(page.get_by_label("希望结束时间")).to_have_value("2030-01-02T11:30")
    assert_fits_the_screen(page)
    shot(page, "13-resident-form-error")
    assert not ServiceRequest.objects.exists()

    page.get_by_label("联系电话").fill("0312-3456789")
    page.get_by_role("button", name="提交需求").click()
    expect(page.locator(".messages")).to_contain_text("需求已提交，我们会尽快处理。")
    created = ServiceRequest.objects.get()
    assert timezone.localtime(created.window_start).strftime("%Y-%m-%d %H:%M") == "2030-01-02 09:00"
    assert timezone.localtime(created.window_end).strftime("%Y-%m-%d %H:%M") == "2030-01-02 11:30"
    assert created.contact_phone == "03123456789"
    context.close()
