"""Staff dispatch through the matching queue's pages in headless Chromium, on a 1280×800 desktop:
the ranked candidates with their reasons, search, "more" (htmx), ticking two and 派单, switching
the mode to auto, and the queue page's two groups."""

import re

import pytest
from playwright.sync_api import Page, expect

from apps.dispatch.models import Offer, OfferStatus
from apps.matching.selectors import rank_candidates
from apps.organisation.models import DispatchMode
from apps.service_requests.models import ServiceRequest, Status
from apps.service_requests.services import request_review
from apps.volunteers.selectors import volunteers_visible_to
from tests.accounts.factories import PASSWORD
from tests.browser import DESKTOP, new_page, shot
from tests.volunteers.factories import make_volunteer
from tests.workflow.scenario import submit

pytestmark = [pytest.mark.browser]

SCREEN = {**DESKTOP, "viewport": {"width": 1280, "height": 800}}


def _log_in(page: Page, base_url: str, phone: str) -> None:
    page.goto(f"{base_url}/login/")
    page.get_by_label("手机号").fill(phone)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.get_by_role("button", name="退出")).to_be_visible()


def test_staff_dispatch_from_the_ranked_candidates_and_hand_the_request_to_the_queue(
    live_server, transactional_db, browser, cast, org
) -> None:
    base = live_server.url
    for _ in range(21):  # 23 candidates in township A: a second page of 3
        make_volunteer(township=org["township_a"], village=org["village_a1"], categories=[org["category"]])
    request = submit(requester=cast.resident, category=org["category"], village=org["village_a1"])
    request_review(request=request, actor=cast.staff_a, accept=True)
    other = submit(
        requester=cast.resident, category=org["category"], village=org["village_a2"], title="陪同老人去医院复查"
    )
    request_review(request=other, actor=cast.staff_a, accept=True)
    ranked = rank_candidates(
        request=ServiceRequest.objects.get(id=request.id),
        limit=1,
        restrict_to=volunteers_visible_to(user=cast.staff_a),
    )

    context, page = new_page(browser, SCREEN)
    _log_in(page, base, cast.staff_a.phone)
    page.goto(f"{base}/s/requests/{request.id}/")
    expect(page.locator("strong.dispatch-mode")).to_have_text("定向派单")

    # The best 20, best first, each with its number, masked name, score and reasons.
    rows = page.locator("#dispatch li.candidate")
    expect(rows).to_have_count(20)
    first = rows.first
    expect(first).to_contain_text(str(ranked[0].volunteer.volunteer_number))
    expect(first).to_contain_text(ranked[0].volunteer.user.masked_name)
    expect(first).to_contain_text("匹配度")
    expect(first.locator(".reasons")).to_have_text(" · ".join(ranked[0].reasons))
    assert ranked[0].reasons  # every candidate comes with why it ranks there
    shot(page, "matching-01-staff-candidates")

    # Search by number: the one volunteer.
    page.get_by_label("搜索志愿者").fill(cast.other_volunteer.volunteer_number)
    page.get_by_role("button", name="筛选").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(cast.other_volunteer.volunteer_number)
    page.get_by_label("搜索志愿者").fill("")
    page.get_by_role("button", name="筛选").click()
    expect(rows).to_have_count(20)

    # More: the next 3, appended in place (htmx), and no more after them.
    page.get_by_role("link", name="更多志愿者").click()
    expect(rows).to_have_count(23)
    expect(page.get_by_role("link", name="更多志愿者")).to_have_count(0)
    assert page.url.startswith(f"{base}/s/requests/{request.id}/")  # the page stayed
    assert "offset" not in page.url

    # Tick two and 派单.
    page.get_by_label(re.compile(cast.volunteer.volunteer_number)).check()
    page.get_by_label(re.compile(cast.other_volunteer.volunteer_number)).check()
    page.get_by_role("button", name="派单", exact=True).click()
    expect(page.locator(".messages")).to_contain_text("已派单，等待志愿者接单。")
    offers = Offer.objects.filter(request_id=request.id).order_by("volunteer_id")
    assert [(o.volunteer_id, o.status, o.offered_by_id) for o in offers] == [
        (cast.volunteer.id, OfferStatus.OFFERED, cast.staff_a.id),
        (cast.other_volunteer.id, OfferStatus.OFFERED, cast.staff_a.id),
    ]
    assert ServiceRequest.objects.get(id=request.id).status == Status.OFFERED

    # Hand it to the queue: auto.
    page.get_by_label("派单方式", exact=True).select_option(label="自动派单")
    page.get_by_role("button", name="切换派单方式").click()
    expect(page.locator(".messages")).to_contain_text("派单方式已改为「自动派单」。")
    expect(page.locator("strong.dispatch-mode")).to_have_text("自动派单")
    assert ServiceRequest.objects.get(id=request.id).dispatch_mode == DispatchMode.AUTO
    shot(page, "matching-02-staff-mode-auto")

    # The queue page: the other request needs a person, the queue works on this one.
    page.get_by_role("link", name="工单队列").first.click()
    expect(page.locator(".queue-counts")).to_have_text("需人工处理 1 件 · 队列处理中 1 件")
    expect(page.locator("#needs-person")).to_contain_text("陪同老人去医院复查")
    expect(page.locator("#queue-working")).to_contain_text(request.title)
    expect(page.locator("#needs-person")).not_to_contain_text(request.title)
    shot(page, "matching-03-staff-queue-groups")
    assert page.errors == []  # type: ignore[attr-defined]
    context.close()
