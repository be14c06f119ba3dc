"""Joining the platform end to end in headless Chromium, as a new person would: register on a phone
with the code the development SMS backend wrote, sign up as a volunteer, be reviewed by the
station's staff on a desktop (once refused with a reason, fixed and resubmitted), then receive an
offer and accept it. Screenshots land in test-artifacts/."""

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from apps.accounts.models import User
from apps.accounts.phones import phone_digest
from apps.accounts.sms.development import read_sms_file
from apps.dispatch.models import Offer, OfferStatus
from apps.service_requests import services as request_services
from apps.service_requests.models import ServiceRequest
from apps.volunteers.identity import check_character
from apps.volunteers.models import ApplicationStatus, IdReveal, VolunteerEvent, VolunteerProfile
from tests.accounts.factories import PASSWORD
from tests.browser import DESKTOP, PHONE, assert_fits_the_screen, new_page, shot
from tests.service_requests.factories import submit_request

pytestmark = [pytest.mark.browser]


NEWCOMER_PHONE, NEWCOMER_PASSWORD = "13811112222", "太平庄-志愿-2027"
# A 居民身份证 of 涿州 (130681), born 1990-03-07, a man (sequence 123 is odd).
FIRST17 = "13068119900307123"
ID_NUMBER = FIRST17 + check_character(FIRST17)
MASKED_ID = f"130681********{ID_NUMBER[-4:]}"


@pytest.fixture
def sms_file(settings, tmp_path) -> Path:
    path = tmp_path / "sms.log"
    settings.SMS_BACKENDS = ["apps.accounts.sms.development.FileSmsBackend"]
    settings.SMS_FILE_PATH = str(path)
    return path


def _log_in(page: Page, base: str, phone: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/login/")
    page.get_by_label("手机号").fill(phone)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录", exact=True).click()
    expect(page.get_by_role("button", name="退出")).to_be_visible()


def _last_code(path: Path, phone: str) -> str:
    codes = [str(m["params"]["code"]) for m in read_sms_file(path) if m["phone"] == phone]  # type: ignore[index]
    assert codes, f"no code was sent to {phone}"
    return codes[-1]


def _register(page: Page, base: str, sms_file: Path) -> User:
    page.goto(f"{base}/login/")
    page.get_by_role("link", name="注册新账户").click()
    expect(page.locator("h1")).to_have_text("注册")
    page.get_by_label("手机号").fill(NEWCOMER_PHONE)
    page.get_by_role("button", name="获取验证码").click()
    expect(page.locator("#sms-status")).to_have_text("验证码已发送到 138****2222，5 分钟内有效。")
    page.get_by_label("短信验证码").fill(_last_code(sms_file, NEWCOMER_PHONE))
    page.get_by_label("姓名").fill("陈志强")
    page.get_by_label("设置密码").fill(NEWCOMER_PASSWORD)
    page.get_by_label("再输一次密码").fill(NEWCOMER_PASSWORD)
    page.get_by_label("常住村/社区").select_option(label="太平庄村")
    page.get_by_label("我已阅读并同意隐私政策").check()
    page.get_by_role("button", name="注册", exact=True).click()
    expect(page).to_have_url(f"{base}/r/requests/")
    return User.objects.get(phone_digest=phone_digest(NEWCOMER_PHONE))


def _sign_up(page: Page, base: str, *, real_name: str) -> None:
    page.get_by_role("link", name="成为志愿者").click()
    expect(page.locator("h1")).to_have_text("成为志愿者")
    # The home village chosen at registration is already there.
    expect(page.get_by_label("常住村/社区").locator("option:checked")).to_have_text("太平庄村")
    page.get_by_role("textbox", name="真实姓名").fill(real_name)
    page.get_by_role("textbox", name="证件号码").fill(ID_NUMBER)
    page.get_by_role("checkbox", name="便民服务").check()
    for slot in ("周六上午", "周六下午", "周日上午"):
        page.get_by_role("checkbox", name=slot, exact=True).check()
    page.get_by_label(re.compile("我已阅读并同意《志愿者个人信息处理说明》")).check()
    assert_fits_the_screen(page)
    page.get_by_role("button", name="提交注册申请").click()
    expect(page.locator("main")).to_contain_text("您的注册申请正在审核中")


def _review(staff: Page, base: str, applicant: str) -> None:
    staff.goto(f"{base}/s/volunteers/")
    expect(staff.locator("h1")).to_contain_text("志愿者审核")
    staff.get_by_role("link", name=re.compile(applicant)).click()
    expect(staff.locator("#id-masked")).to_have_text(MASKED_ID)
    assert ID_NUMBER not in staff.content()


def test_a_new_person_registers_signs_up_is_refused_fixes_it_is_approved_and_accepts_an_offer(
    live_server, transactional_db, browser, cast, org, sms_file
) -> None:
    base = live_server.url
    # A request of 太平庄村 waiting for a volunteer, 受理 by the township office.
    waiting = submit_request(requester=cast.resident, category=org["category"], village=org["village_a1"])
    # Wanted next Saturday morning, when the newcomer will say they are free: the ranking offers
    # only volunteers available in the request's window.
    today = timezone.localtime()
    saturday = (today + timedelta(days=(5 - today.weekday()) % 7 or 7)).replace(
        hour=9, minute=0, second=0, microsecond=0
    )
    ServiceRequest.objects.filter(id=waiting.id).update(window_start=saturday, window_end=saturday + timedelta(hours=2))
    request_services.request_review(request=waiting, actor=cast.staff_a, accept=True)

    # ---- 注册 and 志愿者注册: the newcomer on a phone
    phone_ctx, phone = new_page(browser, PHONE)
    newcomer = _register(phone, base, sms_file)
    assert (newcomer.name, newcomer.home_village) == ("陈志强", org["village_a1"])
    _sign_up(phone, base, real_name="陈志刚")  # a slip of the finger: not the name on the card
    profile = VolunteerProfile.objects.get(user=newcomer)
    assert (profile.status, profile.volunteer_number, profile.is_verified) == (ApplicationStatus.PENDING, None, False)
    assert (profile.birth_date, profile.gender, profile.id_number) == (date(1990, 3, 7), "M", ID_NUMBER)
    shot(phone, "joining-01-application-pending")

    # ---- 实名核验: the village station's staff on a desktop refuse it, with the reason
    staff_ctx, staff = new_page(browser, DESKTOP)
    _log_in(staff, base, cast.station_staff_a1.phone)
    _review(staff, base, "陈志刚")
    staff.get_by_label("不通过的原因").fill("姓名与身份证不一致，请核对")
    staff.get_by_role("button", name="不通过（退回修改）").click()
    profile.refresh_from_db()
    assert (profile.status, profile.rejection_reason) == (ApplicationStatus.REJECTED, "姓名与身份证不一致，请核对")

    # ---- the newcomer sees why, fixes the name and resubmits
    phone.goto(f"{base}/v/signup/")
    expect(phone.locator(".rejected .reason")).to_have_text("姓名与身份证不一致，请核对")
    assert_fits_the_screen(phone)
    shot(phone, "joining-02-application-rejected")
    phone.get_by_label("真实姓名").fill("陈志强")
    phone.get_by_label(re.compile("我已阅读并同意《志愿者个人信息处理说明》")).check()
    phone.get_by_role("button", name="修改后重新提交").click()
    expect(phone.locator("main")).to_contain_text("您的注册申请正在审核中")

    # ---- approved this time: the volunteer gets a number
    _review(staff, base, "陈志强")
    staff.get_by_role("button", name="核验通过").click()
    profile.refresh_from_db()
    assert profile.status == ApplicationStatus.APPROVED
    assert profile.volunteer_number == f"ZZV{profile.id:07d}"
    assert (profile.is_verified, profile.verified_by_node, profile.reviewed_by) == (
        True,
        org["station_a1"],
        cast.station_staff_a1,
    )
    assert list(VolunteerEvent.objects.filter(volunteer=profile).values_list("kind", "actor", "reason")) == [
        ("submitted", newcomer.id, ""),
        ("rejected", cast.station_staff_a1.id, "姓名与身份证不一致，请核对"),
        ("resubmitted", newcomer.id, ""),
        ("approved", cast.station_staff_a1.id, ""),
    ]
    assert IdReveal.objects.count() == 0

    # ---- 派单 to the new volunteer, by the station's staff
    staff.goto(f"{base}/s/requests/{waiting.id}/")
    staff.get_by_label(re.compile(profile.volunteer_number)).check()
    staff.get_by_role("button", name="派单", exact=True).click()
    expect(staff.locator(".messages")).to_contain_text("已派单，等待志愿者接单。")
    offer = Offer.objects.get(volunteer=profile)

    # ---- 接单 on the phone
    phone.goto(f"{base}/v/offers/")
    card = phone.locator(f"#offer-{offer.id}")
    expect(card).to_contain_text("桃园街道 · 太平庄村")
    assert_fits_the_screen(phone)
    card.get_by_role("button", name="接单").click()
    expect(phone).to_have_url(f"{base}/v/tasks/")
    expect(phone.locator(".messages")).to_contain_text("接单成功！请按时前往服务。")
    offer.refresh_from_db()
    assert offer.status == OfferStatus.ACCEPTED
    shot(phone, "joining-03-offer-accepted")

    assert phone.errors == [] and staff.errors == []  # type: ignore[attr-defined]
    phone_ctx.close()
    staff_ctx.close()
