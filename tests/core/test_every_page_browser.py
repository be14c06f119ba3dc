"""Every page of the app, as the demo's people see it on first login, in headless Chromium: axe-core
finds no serious or critical problem on any of them, in the standard and the 长辈版 layout, in
Chinese and in English; and on every page a resident or a volunteer uses, 长辈版 meets the MIIT
numbers at 390×844 (text ≥ 18 px, line height ≥ 1.3, every target ≥ 60 × 60 px), with the menu
open too; and on a phone no page is wider than the screen, in either layout. The offenders are
listed page by page, so a failure names the page and the selector."""

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect

from apps.accounts.models import User
from apps.accounts.phones import phone_digest
from apps.demo.services import DEMO_PASSWORD, seed_demo
from apps.dispatch import services as dispatch_services
from apps.ratings.models import FollowUp
from apps.service_requests import services as request_services
from apps.service_requests.models import ServiceRequest
from apps.teams.models import Team
from apps.volunteers.models import VolunteerProfile
from tests.browser import DESKTOP, PHONE, elder_offenders, new_page, serious_axe_findings

pytestmark = pytest.mark.django_db(transaction=True)

LANGUAGES = ("zh-hans", "en")


def _user(phone: str) -> User:
    return User.objects.get(phone_digest=phone_digest(phone))


def _volunteer(phone: str) -> VolunteerProfile:
    return VolunteerProfile.objects.get(user__phone_digest=phone_digest(phone))


def _request_like(template: ServiceRequest, title: str) -> ServiceRequest:
    data = request_services.RequestInput(
        category=template.category,
        title=title,
        description=template.description,
        village=template.village,
        address=template.address,
        contact_name=template.contact_name,
        contact_phone=template.contact_phone,
        urgency="normal",
        window_start=timezone.now() + timedelta(days=1),
        window_end=timezone.now() + timedelta(days=1, hours=2),
    )
    return request_services.request_submit(data=data, requester=template.requester, entered_by=template.requester)


@pytest.fixture
def demo(live_server) -> dict[str, int]:
    """The demo (``make run``), with 王秀兰's requests in every state a resident meets: one offered
    to 张小明 (his offers page), one he is on the way to (his tasks page), one completed and
    waiting for her rating."""
    call_command("load_places", verbosity=0)
    call_command("load_teams", verbosity=0)
    seed_demo()
    resident, staff = _user("13900000001"), _user("13600000003")
    volunteer = _volunteer("13700000001")
    first = ServiceRequest.objects.filter(requester=resident).order_by("id").first()
    assert first is not None
    requests = {"open": first.id}
    titles = {"offered": "帮忙搬冬储白菜", "on_the_way": "陪老人去卫生院", "completed": "帮忙换灯泡"}
    for name, title in titles.items():
        request = _request_like(first, title)
        if request.status == "submitted":
            request_services.request_review(request=request, actor=staff, accept=True)
        (offer,) = dispatch_services.dispatch_directed(request=request, actor=staff, volunteers=[volunteer])
        if name != "offered":
            dispatch_services.offer_accept(offer=offer, volunteer=volunteer)
            dispatch_services.offer_depart(offer=offer, volunteer=volunteer, eta_minutes=20)
        if name == "completed":
            dispatch_services.offer_check_in(offer=offer, volunteer=volunteer)
            dispatch_services.offer_complete(offer=offer, volunteer=volunteer, report="已换好")
        requests[name] = request.id
    teams = Team.objects.filter(memberships__volunteer=volunteer).order_by("id")
    requests["team"] = teams.values_list("id", flat=True)[0]
    requests["volunteer"] = volunteer.id
    follow_up = FollowUp.objects.order_by("id").first()
    requests["follow_up"] = follow_up.id if follow_up else 0
    return requests


def _resident_pages(ids: dict[str, int]) -> list[str]:
    return [
        "/r/requests/",
        "/r/help/",
        "/r/requests/new/",
        f"/r/requests/{ids['open']}/",
        f"/r/requests/{ids['on_the_way']}/",
        f"/r/requests/{ids['completed']}/",
        f"/r/requests/{ids['completed']}/rate/",
        "/notifications/",
        "/v/signup/",
        "/privacy/",
    ]


def _volunteer_pages(ids: dict[str, int]) -> list[str]:
    return [
        "/v/offers/",
        "/v/tasks/",
        "/v/open-tasks/",
        "/v/team-tasks/",
        "/teams/",
        f"/teams/{ids['team']}/",
        "/v/profile/",
        "/v/profile/leave/",
        "/notifications/",
        "/r/requests/",
    ]


def _staff_pages(ids: dict[str, int]) -> list[str]:
    pages = [
        "/s/queue/",
        "/s/queue/?tab=active",
        "/s/queue/?tab=done",
        "/s/requests/new/",
        f"/s/requests/{ids['open']}/",
        f"/s/requests/{ids['completed']}/",
        "/s/volunteers/",
        f"/s/volunteers/{ids['volunteer']}/",
        "/s/teams/",
        f"/teams/{ids['team']}/",
        "/s/roster/",
        "/s/followups/",
        "/s/board/",
        "/s/kpi/",
        "/s/scorecards/",
    ]
    return pages + ([f"/s/followups/{ids['follow_up']}/"] if ids["follow_up"] else [])


DISPATCHER_PAGES = ["/s/reports/", "/s/queue/health/"]
ANONYMOUS_PAGES = ["/login/", "/login/code/", "/register/", "/password/reset/", "/privacy/"]


def _log_in(page: Page, base: str, phone: str) -> None:
    page.goto(f"{base}/login/")
    page.locator("#id_username").fill(phone)
    page.locator("#id_password").fill(DEMO_PASSWORD)
    page.locator("main button[type=submit]").first.click()
    expect(page).not_to_have_url(f"{base}/login/")


def _set_elder(page: Page, on: bool) -> None:
    switch = page.locator("form.elder-switch button")
    if (switch.get_attribute("aria-pressed") == "true") != on:
        switch.click()
        expect(page.locator("body.elder")).to_have_count(1 if on else 0)


def _walk(
    browser: Browser,
    base: str,
    *,
    phone: str | None,
    pages: list[str],
    options: dict,
    measure_elder: bool,
    check: Callable[[Page], list[str]] = serious_axe_findings,
) -> dict[str, list[str]]:
    """Every page in both languages and both layouts: what axe-core (and, in 长辈版, the MIIT
    measurement) finds, by "language layout path"."""
    found: dict[str, list[str]] = {}
    for language in LANGUAGES:
        context, page = new_page(browser, options)
        context.add_cookies([{"name": "django_language", "value": language, "url": base}])
        if phone:
            _log_in(page, base, phone)
        for elder in (False, True):
            page.goto(f"{base}{pages[0]}")
            _set_elder(page, elder)
            for path in pages:
                page.goto(f"{base}{path}")
                page.wait_for_load_state("networkidle")
                key = f"{language} {'长辈版' if elder else '标准版'} {path}"
                problems = check(page)
                if measure_elder:  # a phone's pages, in either layout
                    overflow = page.evaluate(
                        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
                    )
                    if overflow:
                        problems.append(f"{overflow} px wider than the screen")
                    # 长辈版: one row, one 60 px target high plus its padding. Standard: two rows,
                    # the name and the switches, then the pages on one line that scrolls sideways.
                    header = page.locator("header.top").bounding_box()
                    if header is None or header["height"] > (76 if elder else 110):
                        problems.append(f"header {header and header['height']} px high")
                if elder and measure_elder:
                    problems += elder_offenders(page)
                if problems:
                    found[key] = problems
            if elder and measure_elder:
                # The menu, opened, is measured too.
                page.locator("details.menu > summary").click()
                problems = elder_offenders(page)
                if problems:
                    found[f"{language} 长辈版 {pages[-1]} (menu open)"] = problems
        assert page.errors == []  # type: ignore[attr-defined]
        context.close()
    return found


def _report(found: dict[str, list[str]]) -> str:
    return "\n".join(f"{key}:\n  " + "\n  ".join(problems) for key, problems in found.items())


def test_anonymous_pages(browser, live_server, demo) -> None:
    found = _walk(browser, live_server.url, phone=None, pages=ANONYMOUS_PAGES, options=PHONE, measure_elder=True)
    assert found == {}, _report(found)


def test_resident_pages(browser, live_server, demo) -> None:
    found = _walk(
        browser, live_server.url, phone="13900000001", pages=_resident_pages(demo), options=PHONE, measure_elder=True
    )
    assert found == {}, _report(found)


def test_volunteer_pages(browser, live_server, demo) -> None:
    found = _walk(
        browser, live_server.url, phone="13700000001", pages=_volunteer_pages(demo), options=PHONE, measure_elder=True
    )
    assert found == {}, _report(found)


def test_staff_pages(browser, live_server, demo) -> None:
    found = _walk(
        browser, live_server.url, phone="13600000003", pages=_staff_pages(demo), options=DESKTOP, measure_elder=False
    )
    found |= _walk(
        browser, live_server.url, phone="13500000001", pages=DISPATCHER_PAGES, options=DESKTOP, measure_elder=False
    )
    assert found == {}, _report(found)
