"""Registering on a phone in headless Chromium: the code is read from the development SMS backend's
file, as a developer would; the person lands signed in on their requests. With JavaScript (the
button asks the API and counts down) and without (the button posts the form)."""

import pytest
from playwright.sync_api import Page, expect

from apps.accounts.models import User
from apps.accounts.phones import phone_digest
from apps.notifications.models import Kind, Notification
from tests.accounts.factories import make_user
from tests.browser import PHONE, assert_fits_the_screen, shot

pytestmark = [pytest.mark.browser]

NUMBER, PASSWORD = "13822223333", "桃园街道-2027-春天"


@pytest.fixture
def development_sms(settings, outbox):
    """The file and the administrators' inbox, as on a developer's laptop (the console is left out)."""
    settings.SMS_BACKENDS = [
        "apps.accounts.sms.development.FileSmsBackend",
        "apps.notifications.sms_inbox.AdminInboxSmsBackend",
    ]
    return outbox


def _fill_the_rest(page: Page, code: str) -> None:
    page.get_by_label("短信验证码").fill(code)
    page.get_by_label("姓名").fill("李桂芝")
    page.get_by_label("设置密码").fill(PASSWORD)
    page.get_by_label("再输一次密码").fill(PASSWORD)
    page.get_by_label("常住村/社区").select_option(label="东庄头村")
    page.get_by_label("我已阅读并同意隐私政策").check()


def _registered(org) -> User:
    user = User.objects.get(phone_digest=phone_digest(NUMBER))
    assert (user.name, user.home_village, user.home_township) == ("李桂芝", org["village_a2"], org["township_a"])
    assert user.privacy_version != "" and user.privacy_consented_at is not None
    return user


def test_a_new_person_registers_on_a_phone_with_the_code_from_the_development_backend(
    live_server, transactional_db, browser, org, development_sms
) -> None:
    admin = make_user(name="管理员", is_superuser=True, is_staff=True)
    context = browser.new_context(**PHONE)
    context.set_default_timeout(15_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    page.goto(f"{live_server.url}/login/")
    page.get_by_role("link", name="注册新账户").click()
    expect(page.locator("h1")).to_have_text("注册")

    # 长辈版: the send button is a large target.
    page.get_by_role("button", name="长辈版").click()
    expect(page.locator("body")).to_have_class("elder")
    box = page.get_by_role("button", name="获取验证码").bounding_box()
    assert box is not None and box["height"] >= 60
    assert_fits_the_screen(page)

    page.get_by_label("手机号").fill(NUMBER)
    page.get_by_role("button", name="获取验证码").click()
    expect(page.locator("#sms-status")).to_have_text("验证码已发送到 138****3333，5 分钟内有效。")
    send_button = page.locator("button[data-send-code]")
    expect(send_button).to_be_disabled()
    expect(send_button).to_contain_text("秒后可重新获取")
    code = development_sms.last_code(NUMBER)
    # The administrator's inbox has it too, in full (a development backend).
    inbox = Notification.objects.get(recipient=admin, kind=Kind.SMS_DEVELOPMENT)
    assert inbox.params == {"phone": NUMBER, "text": f"您的注册验证码是 {code}，5 分钟内有效。请勿告诉他人。"}

    _fill_the_rest(page, code)
    assert_fits_the_screen(page)
    shot(page, "accounts-register-elder")
    page.get_by_role("button", name="注册", exact=True).click()

    expect(page).to_have_url(f"{live_server.url}/r/requests/")
    expect(page.locator(".messages")).to_contain_text("注册成功，欢迎使用涿州i志愿！")
    # In 长辈版 the log-out button is in the one-row header's 菜单.
    page.locator("details.menu > summary").click()
    expect(page.get_by_role("button", name="退出")).to_be_visible()
    _registered(org)
    assert errors == []
    context.close()


def test_registering_works_without_javascript(live_server, transactional_db, browser, org, development_sms) -> None:
    context = browser.new_context(**PHONE, java_script_enabled=False)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(f"{live_server.url}/register/")
    page.get_by_label("手机号").fill(NUMBER)
    page.get_by_label("姓名").fill("李桂芝")
    page.get_by_role("button", name="获取验证码").click()
    expect(page.locator("#sms-status")).to_have_text("验证码已发送到 138****3333，5 分钟内有效。")
    expect(page.get_by_label("手机号")).to_have_value(NUMBER)
    expect(page.get_by_label("姓名")).to_have_value("李桂芝")

    _fill_the_rest(page, development_sms.last_code(NUMBER))
    page.get_by_role("button", name="注册", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/r/requests/")
    expect(page.get_by_role("button", name="退出")).to_be_visible()
    _registered(org)
    context.close()
