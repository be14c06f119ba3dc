"""Chinese is the default language and English is complete: pages, API errors and the catalogue.

The English tests compile the committed ``locale/en/LC_MESSAGES/django.po`` into a temporary
directory, so they check the catalogue as it is in the tree, not a stale ``.mo``."""

from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from django.conf import settings
from django.core.cache import cache
from django.utils import translation

from apps.accounts.serializers import LOGIN_FAILED
from apps.notifications.messages import render
from apps.notifications.models import Kind
from tests.accounts.factories import PASSWORD

PO_PATH = Path(settings.BASE_DIR) / "locale" / "en" / "LC_MESSAGES" / "django.po"


def _catalog():
    with PO_PATH.open("rb") as f:
        return read_po(f, abort_invalid=True)


@pytest.fixture
def english(settings, tmp_path):
    """Serve translations from the committed .po (compiled here) instead of whatever .mo is on disk."""
    target = tmp_path / "locale" / "en" / "LC_MESSAGES"
    target.mkdir(parents=True)
    with (target / "django.mo").open("wb") as f:
        write_mo(f, _catalog())
    settings.LOCALE_PATHS = [tmp_path / "locale"]  # the setting_changed signal drops Django's catalogue cache
    cache.clear()  # the login throttle counts in the default cache
    yield
    cache.clear()


# ------------------------------------------------------------------ (a) pages


@pytest.mark.django_db
def test_login_page_is_chinese_by_default(client, english):
    html = client.get("/login/").content.decode()
    assert '<html lang="zh-Hans">' in html
    assert '<button type="submit" class="primary">登录</button>' in html
    assert "手机号" in html
    assert "涿州i志愿" in html
    assert "Log in" not in html


@pytest.mark.django_db
def test_login_page_in_english_from_accept_language(client, english):
    html = client.get("/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="en">' in html
    assert '<button type="submit" class="primary">Log in</button>' in html
    assert "<h1>Log in</h1>" in html
    assert "Mobile number" in html
    assert "Zhuozhou iVolunteer" in html
    assert "Large text" in html
    assert "登录" not in html and "手机号" not in html


@pytest.mark.django_db
def test_set_language_view_switches_to_english_and_back(client, english):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    assert response.status_code == 302
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    html = client.get("/login/").content.decode()
    assert "Log in" in html and "登录" not in html
    # The header offers the way back to Chinese.
    assert 'value="zh-hans"' in html

    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/login/"})
    html = client.get("/login/").content.decode()
    assert "登录" in html and "Log in" not in html


@pytest.mark.django_db
def test_wrong_password_on_login_page_in_english(client, cast, english):
    response = client.post(
        "/login/", {"username": cast.resident.phone, "password": "wrong-password"}, HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 200
    assert "Incorrect mobile number or password." in response.content.decode()


# ------------------------------------------------------------------ (b) API errors


@pytest.mark.django_db
def test_api_error_in_english_and_chinese(client, cast, english):
    with translation.override("en"):
        expected_en = str(LOGIN_FAILED)
    with translation.override("zh-hans"):
        expected_zh = str(LOGIN_FAILED)
    assert expected_en == "Incorrect mobile number or password."
    assert expected_zh == "手机号或密码不正确。"

    payload = {"phone": cast.resident.phone, "password": "wrong-password"}
    en = client.post("/api/v1/auth/token/", payload, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")
    assert en.status_code == 400
    assert en.json()["errors"]["phone"] == [expected_en]
    assert en.json()["detail"] == "Some of the information is not valid. Please check it and try again."

    zh = client.post("/api/v1/auth/token/", payload, content_type="application/json")
    assert zh.status_code == 400
    assert zh.json()["errors"]["phone"] == [expected_zh]
    assert zh.json()["detail"] == "提交的内容有误，请检查后重试。"

    # and the right password still works in either language
    ok = client.post(
        "/api/v1/auth/token/",
        {"phone": cast.resident.phone, "password": PASSWORD},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert ok.status_code == 200 and ok.json()["token"]


@pytest.mark.django_db
def test_api_not_found_in_english(cast, api, english):
    client = api(cast.resident)
    en = client.get("/api/v1/requests/999999/", HTTP_ACCEPT_LANGUAGE="en")
    assert en.status_code == 404
    assert en.json()["detail"] == "Not found, or you do not have permission to view it."
    zh = client.get("/api/v1/requests/999999/")
    assert zh.json()["detail"] == "未找到，或您无权查看。"


def test_notifications_render_in_the_readers_language(english):
    params = {"title": "帮忙修理水龙头", "reason": ""}
    with translation.override("en"):
        title, body = render(Kind.RECEIVED, params, 12)
    assert title == "Request received"
    assert body == "We have received your request #12 “帮忙修理水龙头” and will review it soon."
    with translation.override("zh-hans"):
        title, body = render(Kind.RECEIVED, params, 12)
    assert title == "需求已收到"
    assert body == "您的需求#12「帮忙修理水龙头」已收到，我们会尽快审核。"


def test_plural_forms(english):
    with translation.override("en"):
        one = translation.ngettext("已向%(n)d名志愿者发出服务邀请", "已向%(n)d名志愿者发出服务邀请", 1) % {"n": 1}
        three = translation.ngettext("已向%(n)d名志愿者发出服务邀请", "已向%(n)d名志愿者发出服务邀请", 3) % {"n": 3}
    assert one == "Service offer sent to 1 volunteer"
    assert three == "Service offers sent to 3 volunteers"


# ------------------------------------------------------------------ (c) the catalogue


def test_every_msgid_has_an_english_msgstr() -> None:
    catalog = _catalog()
    messages = [m for m in catalog if m.id]
    assert len(messages) > 250
    untranslated, fuzzy = [], []
    for message in messages:
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(s and s.strip() for s in strings):
            untranslated.append(message.id)
        if message.fuzzy:
            fuzzy.append(message.id)
    assert untranslated == []
    assert fuzzy == []
    assert not catalog.fuzzy


def test_catalogue_placeholders_match() -> None:
    problems = [(message.id, [str(e) for e in errors]) for message, errors in _catalog().check()]
    assert problems == []


def test_compiled_catalogue_serves_every_entry(english):
    """Each msgstr comes back through Django's own gettext, so nothing is shadowed or lost in compiling."""
    wrong = []
    with translation.override("en"):
        for message in _catalog():
            if not message.id:
                continue
            if isinstance(message.id, tuple):
                singular, plural = message.id
                for n, want in ((1, message.string[0]), (2, message.string[1])):
                    got = translation.ngettext(singular, plural, n)
                    if got != want:
                        wrong.append((message.id, got, want))
                continue
            elif message.context:
                got, want = translation.pgettext(message.context, message.id), message.string
            else:
                got, want = translation.gettext(message.id), message.string
            if got != want:
                wrong.append((message.id, got, want))
    assert wrong == []


def test_system_reasons_are_stored_once_and_shown_in_each_readers_language(cast, org, api, english):
    from apps.dispatch.services import dispatch_directed, offer_accept
    from apps.service_requests.models import RequestEvent
    from apps.service_requests.services import request_review
    from tests.service_requests.factories import submit_request

    request = submit_request(requester=cast.resident, category=org["category"], village=org["village_a1"])
    request_review(request=request, actor=cast.staff_a, accept=True)
    (offer,) = dispatch_directed(request=request, actor=cast.staff_a, volunteers=[cast.volunteer])
    offer_accept(offer=offer, volunteer=cast.volunteer)

    event = RequestEvent.objects.get(request=request, to_status="accepted")
    # A key, whatever language the actor used; translated for each reader.
    assert (event.reason, event.reason_code, event.reason_params) == ("", "fully_staffed", {})
    client = api(cast.resident)
    zh = client.get(f"/api/v1/requests/{request.id}/").json()["events"][-1]
    en = client.get(f"/api/v1/requests/{request.id}/", HTTP_ACCEPT_LANGUAGE="en").json()["events"][-1]
    assert (zh["to_status"], zh["reason"]) == ("accepted", "所需志愿者已全部接单")
    assert (en["to_status"], en["reason"]) == ("accepted", "All the volunteers needed have accepted")
