"""Volunteer sign-up through the pages in headless Chromium: the applicant on a phone, station
staff on a desktop; rejection with a reason → fix → resubmit → approval → an offer accepted."""

import pytest
from playwright.sync_api import expect

from apps.dispatch import services as dispatch_services
from apps.dispatch.models import Offer, OfferStatus
from apps.service_requests import services as request_services
from apps.volunteers.models import VolunteerProfile
from tests.browser import DESKTOP, PHONE, assert_fits_the_screen, new_page, shot
from tests.service_requests.factories import submit_request
from tests.volunteers.ids import resident_id, years_ago
from tests.workflow.test_pages_browser import _log_in

pytestmark = [pytest.mark.browser]


def test_sign_up_rejection_resubmit_approval_and_an_accepted_offer(live_server, transactional_db, browser, cast, org):
    base = live_server.url
    number = resident_id(years_ago(32), sequence="135")

    # ---- The resident signs up on a phone
    ctx, phone = new_page(browser, PHONE)
    _log_in(phone, base, cast.resident.phone)
    phone.get_by_role("link", name="成为志愿者").click()
    expect(phone).to_have_url(f"{base}/v/signup/")
    expect(phone.get_by_label("真实姓名")).to_have_value("王秀兰")
    phone.get_by_role("textbox", name="证件号码").fill(number.lower())
    phone.locator("#id_village").select_option(label="太平庄村")
    phone.get_by_label("便民服务").check()
    phone.get_by_label("周六上午").check()
    phone.get_by_label("我已阅读并同意").check()
    assert_fits_the_screen(phone)
    shot(phone, "v01-signup")
    phone.get_by_role("button", name="提交注册申请").click()
    expect(phone.locator(".messages")).to_contain_text("已提交，请等待所在村（社区）实践站审核。")
    expect(phone.locator("main")).to_contain_text("您的注册申请正在审核中")
    profile = VolunteerProfile.objects.get(user=cast.resident)
    assert (profile.status, profile.gender, profile.id_number) == ("pending", "M", number)
    shot(phone, "v02-pending")

    # ---- The village station rejects it with a reason, on a desktop
    staff_ctx, staff = new_page(browser, DESKTOP)
    _log_in(staff, base, cast.station_staff_a1.phone)
    staff.get_by_role("link", name="志愿者审核").click()
    staff.get_by_role("link", name="王秀兰").click()
    expect(staff).to_have_url(f"{base}/s/volunteers/{profile.id}/")
    expect(staff.locator("#id-masked")).to_have_text(f"130681********{number[-4:]}")
    assert number not in staff.content()
    staff.locator("#id_reveal-reason").fill("核对证件")
    staff.get_by_role("button", name="显示完整证件号").click()
    expect(staff.locator("#id-revealed")).to_have_text(number)
    staff.goto(f"{base}/s/volunteers/{profile.id}/")
    assert number not in staff.content()
    staff.locator("#id_reject-reason").fill("请至少选择两个可服务时段")
    staff.get_by_role("button", name="不通过（退回修改）").click()
    expect(staff.locator(".messages")).to_contain_text("已退回，申请人会看到原因。")

    # ---- The applicant reads the reason, fixes and resubmits
    phone.goto(f"{base}/v/signup/")
    expect(phone.locator(".rejected")).to_contain_text("请至少选择两个可服务时段")
    phone.get_by_label("周日下午").check()
    phone.get_by_label("我已阅读并同意").check()
    phone.get_by_role("button", name="修改后重新提交").click()
    expect(phone.locator("main")).to_contain_text("您的注册申请正在审核中")

    # ---- The station approves
    staff.goto(f"{base}/s/volunteers/")
    staff.get_by_role("link", name="王秀兰").click()
    staff.get_by_role("button", name="核验通过").click()
    profile.refresh_from_db()
    zzv = f"ZZV{profile.id:07d}"
    assert (profile.status, profile.volunteer_number) == ("approved", zzv)
    expect(staff.locator(".messages")).to_contain_text(zzv)

    # ---- The volunteer's page, then an offer accepted
    phone.goto(f"{base}/v/profile/")
    expect(phone.locator(".identity")).to_contain_text(zzv)
    expect(phone.locator(".identity")).to_contain_text(cast.resident.masked_phone)
    assert_fits_the_screen(phone)
    shot(phone, "v03-profile")
    request = submit_request(requester=cast.other_resident, category=org["category"], village=org["village_a1"])
    request_services.request_review(request=request, actor=cast.staff_a, accept=True)
    (offer,) = dispatch_services.dispatch_directed(request=request, actor=cast.staff_a, volunteers=[profile])
    phone.goto(f"{base}/v/offers/")
    phone.locator(f"#offer-{offer.id}").get_by_role("button", name="接单").click()
    expect(phone).to_have_url(f"{base}/v/tasks/")
    assert Offer.objects.get(id=offer.id).status == OfferStatus.ACCEPTED
    for page in (phone, staff):
        assert page.errors == []  # type: ignore[attr-defined]
    ctx.close()
    staff_ctx.close()
