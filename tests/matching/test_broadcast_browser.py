"""抢单 on a phone (390×844) in headless Chromium: a volunteer finds the open task from the menu,
reads when, where and how many, takes it with a confirm and lands on their tasks with the address;
a second volunteer who had the page open too is told the place is gone. Also in 长辈版."""

import pytest
from playwright.sync_api import expect

from apps.dispatch.models import Offer, OfferStatus
from apps.service_requests.models import ServiceRequest, Status
from tests.browser import PHONE, assert_fits_the_screen, new_page, shot
from tests.matching.test_broadcast import TITLE, open_broadcast
from tests.workflow.test_pages_browser import _log_in

pytestmark = [pytest.mark.browser]


def test_a_volunteer_takes_the_open_task_on_a_phone_and_a_late_one_is_told(
    live_server, transactional_db, browser, cast, org
):
    base = live_server.url
    request = open_broadcast(cast, org, needed=1)

    late_ctx, late = new_page(browser, PHONE)
    _log_in(late, base, cast.other_volunteer.user.phone)
    late.goto(f"{base}/v/open-tasks/")
    expect(late.locator(f"#open-task-{request.id}")).to_contain_text(TITLE)

    ctx, phone = new_page(browser, PHONE)
    _log_in(phone, base, cast.volunteer.user.phone)
    phone.get_by_role("link", name="抢单", exact=True).click()
    expect(phone).to_have_url(f"{base}/v/open-tasks/")
    expect(phone.locator("h1")).to_have_text("抢单")
    card = phone.locator(f"#open-task-{request.id}")
    expect(card).to_contain_text(TITLE)
    expect(card).to_contain_text("地点：桃园街道 · 太平庄村")
    expect(card).to_contain_text("需要1人 · 已有0人接单 · 还差1人")
    assert "太平庄村东街12号" not in phone.content()
    assert_fits_the_screen(phone)
    shot(phone, "m01-open-tasks")

    card.locator("summary").click()
    expect(card).to_contain_text("确认承接这项服务吗？")
    assert_fits_the_screen(phone)
    shot(phone, "m02-open-task-confirm")
    card.get_by_role("button", name="确认抢单").click()

    expect(phone).to_have_url(f"{base}/v/tasks/")
    expect(phone.locator(".messages")).to_contain_text("抢单成功！请按时前往服务。")
    task = phone.locator("li.task")
    expect(task).to_contain_text(TITLE)
    expect(task).to_contain_text("太平庄村东街12号")
    assert_fits_the_screen(phone)
    shot(phone, "m03-taken")
    offer = Offer.objects.get(request=request)
    assert (offer.volunteer_id, offer.status) == (cast.volunteer.id, OfferStatus.ACCEPTED)
    assert ServiceRequest.objects.get(id=request.id).status == Status.ACCEPTED

    # The second volunteer still has the old page: the confirm is refused with a clear message.
    late_card = late.locator(f"#open-task-{request.id}")
    late_card.locator("summary").click()
    late_card.get_by_role("button", name="确认抢单").click()
    expect(late).to_have_url(f"{base}/v/open-tasks/")
    expect(late.locator(".messages")).to_contain_text("手慢了，这个任务的名额已经被抢完了。")
    expect(late.locator("main")).to_contain_text("暂时没有可以抢的任务。")
    shot(late, "m04-too-late")
    assert Offer.objects.filter(request=request).count() == 1
    assert late.errors == [] and phone.errors == []  # type: ignore[attr-defined]
    ctx.close()
    late_ctx.close()


def test_the_open_tasks_page_in_elder_mode_fits_and_has_big_buttons(live_server, transactional_db, browser, cast, org):
    base = live_server.url
    request = open_broadcast(cast, org, needed=2)
    ctx, phone = new_page(browser, PHONE)
    _log_in(phone, base, cast.volunteer.user.phone)
    phone.goto(f"{base}/v/open-tasks/")
    phone.get_by_role("button", name="长辈版").click()
    expect(phone.locator("body.elder")).to_have_count(1)
    expect(phone).to_have_url(f"{base}/v/open-tasks/")
    card = phone.locator(f"#open-task-{request.id}")
    card.locator("summary").click()
    button = card.get_by_role("button", name="确认抢单")
    box = button.bounding_box()
    assert box is not None and box["height"] >= 60
    assert_fits_the_screen(phone)
    shot(phone, "m05-open-tasks-elder")
    button.click()
    expect(phone.locator(".messages")).to_contain_text("抢单成功！请按时前往服务。")
    assert Offer.objects.get(request=request).status == OfferStatus.ACCEPTED
    ctx.close()
