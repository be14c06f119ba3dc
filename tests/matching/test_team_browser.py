"""Team dispatch on a leader's phone (390×844) in headless Chromium: from the open tasks page to
the team's requests, members ticked from the ranked list with their reasons, assigned; a member
declines and the leader, told, assigns another. Also in 长辈版."""

import pytest
from playwright.sync_api import expect

from apps.dispatch.models import Offer, OfferStatus
from apps.dispatch.services import offer_decline
from apps.matching.services import matching_advance
from tests.browser import PHONE, assert_fits_the_screen, new_page, shot
from tests.matching.test_team_dispatch import TEAM, TITLE, build_teams, team_request
from tests.workflow.test_pages_browser import _log_in

pytestmark = [pytest.mark.browser]


def _label(member) -> str:
    return f"{member.user.masked_name}（{member.volunteer_number}）"


def test_a_leader_assigns_members_on_a_phone_and_another_after_a_decline(
    live_server, transactional_db, browser, cast, org
):
    base = live_server.url
    teams = build_teams(cast, org)
    first, second, third = teams.members
    request = team_request(cast, org, teams, needed=2)

    ctx, phone = new_page(browser, PHONE)
    _log_in(phone, base, teams.leader.user.phone)
    phone.goto(f"{base}/v/open-tasks/")
    phone.get_by_role("link", name="服务队派单").click()
    expect(phone).to_have_url(f"{base}/v/team-tasks/")
    card = phone.locator(f"#team-task-{request.id}")
    expect(card).to_contain_text(TITLE)
    expect(card).to_contain_text(f"服务队：{TEAM}")
    expect(card).to_contain_text("需要 2 人 · 已接单 0 人 · 还可安排 2 人")
    expect(card.locator("label.check")).to_have_count(4)  # the leader and the three members
    assert "太平庄村东街12号" not in phone.content()
    assert_fits_the_screen(phone)
    shot(phone, "t01-team-tasks")

    card.get_by_label(str(first.volunteer_number), exact=False).check()
    card.get_by_label(str(second.volunteer_number), exact=False).check()
    card.get_by_role("button", name="安排队员").click()
    expect(phone.locator(".messages")).to_contain_text("已安排队员，等待队员确认。")
    card = phone.locator(f"#team-task-{request.id}")
    expect(card.locator(".assignments li")).to_have_count(2)
    expect(card).to_contain_text("还可安排 0 人")
    assert_fits_the_screen(phone)
    shot(phone, "t02-assigned")
    offers = {o.volunteer_id: o for o in Offer.objects.filter(request=request)}
    assert set(offers) == {first.id, second.id}

    offer_decline(offer=offers[second.id], volunteer=second, reason="")
    matching_advance(request_id=request.id)
    phone.goto(f"{base}/notifications/")
    expect(phone.locator("main")).to_contain_text(f"队员{_label(second)}无法承接#{request.id}「{TITLE}」，请另行安排。")
    shot(phone, "t03-told")

    phone.goto(f"{base}/v/team-tasks/")
    card = phone.locator(f"#team-task-{request.id}")
    expect(card).to_contain_text("还可安排 1 人")
    expect(card.locator("label.check")).to_have_count(2)  # the leader and the third member
    phone.get_by_role("button", name="长辈版").click()
    expect(phone.locator("body.elder")).to_have_count(1)
    card = phone.locator(f"#team-task-{request.id}")
    card.get_by_label(str(third.volunteer_number), exact=False).check()
    button = card.get_by_role("button", name="安排队员")
    box = button.bounding_box()
    assert box is not None and box["height"] >= 60
    assert_fits_the_screen(phone)
    shot(phone, "t04-elder")
    button.click()
    expect(phone.locator(".messages")).to_contain_text("已安排队员，等待队员确认。")
    assert Offer.objects.get(request=request, volunteer=third).status == OfferStatus.OFFERED
    assert phone.errors == []  # type: ignore[attr-defined]
    ctx.close()
