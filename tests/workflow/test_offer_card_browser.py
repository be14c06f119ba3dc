"""The offer card on a phone (390×844) in headless Chromium: the volunteer reads when, where,
how far, how many and how long they have, the buttons stay big, nothing scrolls sideways, and
the countdown keeps itself true while the page stays open (static/js/countdown.js)."""

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from apps.dispatch.models import Offer, OfferStatus
from tests.browser import PHONE, assert_fits_the_screen, new_page, serious_axe_findings, shot
from tests.workflow.offer_card_world import CARD_TITLE, offered_card, place_points
from tests.workflow.test_pages_browser import _log_in

pytestmark = [pytest.mark.browser]


def test_the_offer_card_tells_a_volunteer_on_a_phone_what_they_need_to_answer(
    live_server, transactional_db, browser, cast, org
):
    base = live_server.url
    place_points(org)
    offer = offered_card(cast, org)
    ctx, phone = new_page(browser, PHONE)
    # The page's clocks are Playwright's, so that the test can move time on.
    phone.clock.install()
    _log_in(phone, base, cast.volunteer.user.phone)
    phone.goto(f"{base}/v/offers/")

    card = phone.locator(f"#offer-{offer.id}")
    expect(card.locator("strong").first).to_have_text(CARD_TITLE)
    expect(card.locator("p.what")).to_have_text("便民服务")
    expect(card.locator("p.when")).to_have_text("时间：12月5日 周四 09:00–11:00")
    expect(card.locator("p.where")).to_have_text("地点：桃园街道 · 东庄头村 · 约 3.2 公里")
    expect(card.locator("p.places")).to_have_text("人数：需要3人 · 已有1人接单 · 还差2人")
    expect(card.locator("p.reply")).to_have_text("时限：还剩 25 分钟答复")
    countdown = card.locator("time.countdown")
    expires_at = timezone.localtime(Offer.objects.get(id=offer.id).expires_at)
    expect(countdown).to_have_attribute("datetime", expires_at.isoformat(timespec="seconds"))
    for name in ("接单", "婉拒"):
        box = card.get_by_role("button", name=name, exact=True).bounding_box()
        assert box is not None and box["height"] >= 44 and box["width"] >= 44, (name, box)
    assert_fits_the_screen(phone)
    assert serious_axe_findings(phone) == []
    shot(phone, "w-offer-card")

    # Ten minutes on the page: the script has rewritten the minutes from the server's seconds.
    phone.clock.run_for(10 * 60 * 1000)
    expect(countdown).to_have_text("还剩 15 分钟答复")
    phone.clock.run_for(15 * 60 * 1000)
    expect(countdown).to_have_text("答复时间已过")
    assert phone.errors == []  # type: ignore[attr-defined]

    # The real clock has not moved: the offer is still open, and the volunteer takes it.
    card.get_by_role("button", name="接单", exact=True).click()
    expect(phone).to_have_url(f"{base}/v/tasks/")
    assert Offer.objects.get(id=offer.id).status == OfferStatus.ACCEPTED
    ctx.close()
