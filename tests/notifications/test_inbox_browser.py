"""The inbox in headless Chromium on a 390×844 phone: a resident with three unread messages sees
3 in the header, opens the newest from the inbox, lands on the request it is about, and the
header (its count loaded by htmx with the page) shows 2; back in the inbox two are marked 未读,
in 长辈版 too. Screenshots land in test-artifacts/."""

import re

import pytest
from playwright.sync_api import Page, expect

from apps.dispatch import services as dispatch_services
from apps.notifications.models import Kind, Notification
from apps.service_requests import services as request_services
from tests.accounts.factories import PASSWORD
from tests.browser import PHONE, assert_fits_the_screen, elder_offenders, new_page, serious_axe_findings, shot
from tests.service_requests.factories import submit_request

pytestmark = [pytest.mark.browser]


def _log_in(page: Page, base_url: str, phone: str) -> None:
    page.goto(f"{base_url}/login/")
    page.get_by_label("手机号").fill(phone)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.get_by_role("button", name="退出")).to_be_visible()


def told_now(user) -> list[tuple[str, object]]:
    return list(Notification.objects.filter(recipient=user).values_list("kind", "read_at"))


def test_opening_a_message_from_the_inbox_lands_on_its_request_and_the_count_drops(
    live_server, transactional_db, browser, cast, org
) -> None:
    base = live_server.url
    request = submit_request(requester=cast.resident, category=org["category"], village=org["village_a1"])
    request_services.request_review(request=request, actor=cast.staff_a, accept=True)
    (offer,) = dispatch_services.dispatch_directed(request=request, actor=cast.staff_a, volunteers=[cast.volunteer])
    dispatch_services.offer_accept(offer=offer, volunteer=cast.volunteer)
    told = list(Notification.objects.filter(recipient=cast.resident).values_list("kind", "read_at", "link"))
    page_of_request = f"/r/requests/{request.id}/"
    assert sorted(told) == sorted((kind, None, page_of_request) for kind in (Kind.RECEIVED, Kind.QUEUED, Kind.ACCEPTED))

    context, phone = new_page(browser, PHONE)
    _log_in(phone, base, cast.resident.phone)
    inbox_link = phone.locator("header nav").get_by_role("link", name=re.compile("^消息"))
    expect(inbox_link.locator(".badge")).to_have_text("3")
    expect(inbox_link.locator(".badge")).to_have_attribute("aria-label", "3条未读")

    inbox_link.click()
    expect(phone).to_have_url(f"{base}/notifications/")
    items = phone.locator("main ul.list > li")
    expect(items).to_have_count(3)
    expect(phone.locator("main .unread-mark")).to_have_count(3)
    expect(phone.locator("main .unread-mark").first).to_have_text("●未读")
    expect(phone.get_by_role("button", name="全部标为已读")).to_be_visible()
    newest = items.first
    expect(newest).to_contain_text(f"已接单#{request.id}「{request.title}」。")
    assert_fits_the_screen(phone)
    assert serious_axe_findings(phone) == []
    shot(phone, "inbox-01-three-unread")

    newest.get_by_role("link", name="志愿者已接单").click()

    expect(phone).to_have_url(f"{base}{page_of_request}")
    expect(phone.locator("main h1")).to_contain_text(request.title)
    expect(phone.locator("header nav .badge")).to_have_text("2")
    expect(phone.locator("header nav .badge")).to_have_attribute("aria-label", "2条未读")
    unread = {kind: read_at is None for kind, read_at in told_now(cast.resident)}
    assert unread == {Kind.RECEIVED: True, Kind.QUEUED: True, Kind.ACCEPTED: False}
    shot(phone, "inbox-02-landed-on-the-request")

    phone.goto(f"{base}/notifications/")
    expect(phone.locator("main .unread-mark")).to_have_count(2)
    expect(phone.locator("main ul.list > li").first).not_to_have_class(re.compile(r"\bunread\b"))
    assert_fits_the_screen(phone)

    # 长辈版: the count sits on 菜单, and every message's link is a 60 px target.
    phone.get_by_role("button", name="长辈版").click()
    expect(phone.locator("body")).to_have_class("elder")
    expect(phone.locator("header details.menu > summary .badge")).to_have_text("2")
    assert elder_offenders(phone) == []
    assert_fits_the_screen(phone)
    shot(phone, "inbox-03-elder")
    assert phone.errors == []  # type: ignore[attr-defined]
    context.close()
