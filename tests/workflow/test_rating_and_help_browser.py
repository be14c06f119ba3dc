"""Rating first, the short 求助 form and a 长辈版 that follows the person, in headless Chromium on
a 390×844 phone: from the list of requests one tap opens the rating, which fits on one screen in
长辈版; an elder asks for help with a category and a sentence; the large layout chosen before
logging in is kept on the account and comes back on another phone."""

import pytest
from playwright.sync_api import Page, expect

from apps.accounts.models import User
from apps.ratings.models import Rating
from apps.service_requests.models import RequestEvent, ServiceRequest, Status
from tests.accounts.factories import PASSWORD
from tests.browser import PHONE, assert_fits_the_screen, elder_offenders, new_page, serious_axe_findings, shot
from tests.workflow.test_pages_browser import _completed_request

pytestmark = pytest.mark.django_db(transaction=True)


def _log_in(page: Page, base: str, phone: str) -> None:
    page.goto(f"{base}/login/")
    page.locator("#id_username").fill(phone)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("main button[type=submit]").first.click()
    expect(page).to_have_url(f"{base}/r/requests/")


def test_in_english_too_the_rating_fits_one_screen_in_elder_mode(live_server, browser, cast, org) -> None:
    request = _completed_request(cast, org)
    base = live_server.url
    context, page = new_page(browser, PHONE)
    context.add_cookies(
        [
            {"name": "elder_mode", "value": "1", "url": base},
            {"name": "django_language", "value": "en", "url": base},
        ]
    )
    page.goto(f"{base}/login/")
    page.locator("#id_username").fill(cast.resident.phone)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("main button[type=submit]").first.click()
    page.goto(f"{base}/r/requests/{request.id}/rate/")
    expect(page.locator("h1")).to_contain_text("How was this service?")
    height = PHONE["viewport"]["height"]
    for locator in (
        page.locator("#rate fieldset label, #rate summary"),
        page.get_by_role("button", name="Submit rating"),
    ):
        for i in range(locator.count()):
            box = locator.nth(i).bounding_box()
            assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height, (i, box)
    assert elder_offenders(page) == []
    context.close()


def test_the_resident_rates_from_the_list_in_one_tap_and_the_rating_fits_one_screen(
    live_server, browser, cast, org
) -> None:
    request = _completed_request(cast, org)
    base = live_server.url
    context, page = new_page(browser, PHONE)
    context.add_cookies([{"name": "elder_mode", "value": "1", "url": base}])
    _log_in(page, base, cast.resident.phone)
    expect(page.locator("body")).to_have_class("elder")

    row = page.locator("li.request-row", has_text=request.title)
    expect(row.locator(".status")).to_have_text("已完成，待您评价")
    # One tap: the call to action in the list row.
    row.get_by_role("link", name="去评价").click()
    expect(page).to_have_url(f"{base}/r/requests/{request.id}/rate/")

    # One screen: every score, every tag and the button are in view without scrolling.
    height = PHONE["viewport"]["height"]
    radios = page.get_by_role("radio")
    expect(radios).to_have_count(5)
    names = [radios.nth(i).evaluate("el => el.labels[0].querySelector('.word').textContent") for i in range(5)]
    assert names == ["非常满意", "满意", "一般", "不满意", "非常不满意"]
    for locator in (page.locator("#rate fieldset label, #rate summary"), page.get_by_role("button", name="提交评价")):
        for i in range(locator.count()):
            box = locator.nth(i).bounding_box()
            assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= height, (i, box)
    assert page.evaluate("window.scrollY") == 0
    assert elder_offenders(page) == []
    assert serious_axe_findings(page) == []
    assert_fits_the_screen(page)
    shot(page, "r01-elder-rating-one-screen")

    page.get_by_role("radio", name="满意", exact=True).check()
    page.get_by_role("checkbox", name="准时守约").check()
    page.get_by_role("button", name="提交评价").click()

    expect(page).to_have_url(f"{base}/r/requests/{request.id}/")
    expect(page.locator(".messages")).to_have_text("已评价，感谢您的反馈！")
    expect(page.locator("main > p .status")).to_have_text("已评价，感谢您的反馈")
    expect(page.locator(".my-rating p").first).to_have_text("★★★★☆ 满意 · 准时守约")
    rating = Rating.objects.get(request=request)
    assert (rating.score, rating.tags, rating.rated_by_id) == (4, ["on_time"], cast.resident.id)
    page.goto(f"{base}/r/requests/")
    expect(page.locator("li.request-row", has_text=request.title).locator(".status")).to_have_text(
        "已评价，感谢您的反馈"
    )
    expect(page.get_by_role("link", name="去评价")).to_have_count(0)
    # Rated already: the rating page sends the resident back to the request.
    page.goto(f"{base}/r/requests/{request.id}/rate/")
    expect(page).to_have_url(f"{base}/r/requests/{request.id}/")
    assert page.errors == []  # type: ignore[attr-defined]
    context.close()


def test_a_rating_without_a_score_is_refused_in_words_and_saves_nothing(live_server, browser, cast, org) -> None:
    request = _completed_request(cast, org)
    base = live_server.url
    context, page = new_page(browser, PHONE)
    _log_in(page, base, cast.resident.phone)
    page.goto(f"{base}/r/requests/{request.id}/rate/")
    page.get_by_role("checkbox", name="迟到").check()
    page.locator("#rate").evaluate("form => form.noValidate = true")
    page.get_by_role("button", name="提交评价").click()
    expect(page.locator("#score-error")).to_have_text("请选择满意程度。")
    # What was chosen stays chosen.
    expect(page.get_by_role("checkbox", name="迟到")).to_be_checked()
    assert not Rating.objects.filter(request=request).exists()
    assert ServiceRequest.objects.get(id=request.id).status == Status.COMPLETED
    context.close()


def test_an_elder_asks_for_help_with_a_category_and_one_sentence(live_server, browser, cast, org) -> None:
    resident = cast.resident
    resident.home_village = org["village_a1"]
    resident.save(update_fields=["home_village"])
    base = live_server.url
    context, page = new_page(browser, PHONE)
    context.add_cookies([{"name": "elder_mode", "value": "1", "url": base}])
    _log_in(page, base, resident.phone)
    page.get_by_role("link", name="一键求助").first.click()
    expect(page).to_have_url(f"{base}/r/help/")
    # The phone and the village are filled in from the account.
    expect(page.get_by_label("联系电话")).to_have_value(resident.phone)
    expect(page.locator(".pp-chosen")).to_contain_text(org["village_a1"].name)
    assert elder_offenders(page) == []
    assert serious_axe_findings(page) == []
    page.get_by_role("radio", name=org["category"].name).check()
    page.get_by_label("说一句话").fill("家里水管漏水了，请派人来看看")
    page.get_by_role("button", name="发出求助").click()

    created = ServiceRequest.objects.get(requester=resident)
    expect(page).to_have_url(f"{base}/r/requests/{created.id}/")
    expect(page.locator(".messages")).to_have_text("求助已发出，服务站会尽快联系您。")
    assert (
        created.category_id,
        created.title,
        created.description,
        created.village_id,
        created.address,
        created.contact_name,
        created.contact_phone,
        created.urgency,
        created.entered_by_id,
    ) == (
        org["category"].id,
        "家里水管漏水了，请派人来看看",
        "家里水管漏水了，请派人来看看",
        org["village_a1"].id,
        org["village_a1"].name,
        resident.name,
        resident.phone,
        "normal",
        resident.id,
    )
    assert list(RequestEvent.objects.filter(request=created).values_list("to_status", flat=True)) == ["submitted"]
    shot(page, "r02-elder-help-sent")
    context.close()


def test_the_elder_layout_chosen_before_logging_in_is_kept_on_the_account(live_server, browser, cast) -> None:
    base = live_server.url
    context, page = new_page(browser, PHONE)
    page.goto(f"{base}/login/")
    switch = page.get_by_role("button", name="长辈版")
    expect(switch).to_have_attribute("aria-pressed", "false")
    switch.click()
    expect(page.locator("body")).to_have_class("elder")
    expect(page.get_by_role("button", name="长辈版")).to_have_attribute("aria-pressed", "true")
    # The log-in page itself is in the large layout, in one header row.
    assert elder_offenders(page) == []
    _log_in(page, base, cast.resident.phone)
    expect(page.locator("body")).to_have_class("elder")
    assert User.objects.get(id=cast.resident.id).elder_mode is True
    context.close()

    # Another phone, no cookie: the account brings the large layout back.
    context, page = new_page(browser, PHONE)
    _log_in(page, base, cast.resident.phone)
    expect(page.locator("body")).to_have_class("elder")
    # Switched off there, it is off on the account.
    page.get_by_role("button", name="长辈版").click()
    expect(page.locator("body")).not_to_have_class("elder")
    assert User.objects.get(id=cast.resident.id).elder_mode is False
    context.close()
