"""The Django admin (/admin/), as the platform's administrators use it every day: it carries the
platform's name, and axe-core finds no serious or critical problem on the log-in page, the index,
or any registered model's list, add form and change form, in Chinese and in English."""

from datetime import timedelta
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.test import RequestFactory
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect
from rest_framework.authtoken.models import Token

from apps.dispatch.services import dispatch_directed
from apps.ratings.models import FollowUp, FollowUpReason, Rating
from apps.service_requests.services import request_review
from apps.volunteers.models import IdReveal
from tests.accounts.factories import PASSWORD
from tests.browser import DESKTOP, new_page, serious_axe_findings
from tests.service_requests.factories import submit_request

ROOT = Path(__file__).resolve().parents[2]
HEADER = "涿州i志愿 管理后台"
HEADER_EN = "Zhuozhou iVolunteer administration"
LANGUAGES = ("zh-hans", "en")


@pytest.fixture
def rows(cast, org) -> None:
    """One row of every model the admin lists, so each change form is opened too."""
    request = submit_request(requester=cast.resident, category=org["category"], village=org["village_a1"])
    request_review(request=request, actor=cast.staff_a, accept=True)
    dispatch_directed(request=request, actor=cast.staff_a, volunteers=[cast.volunteer])  # an offer, notifications
    Rating.objects.create(request=request, score=5, rated_by=cast.resident)
    FollowUp.objects.create(
        request=request,
        station=org["station_a1"],
        reason=FollowUpReason.ROUTINE,
        due_at=timezone.now() + timedelta(hours=48),
    )
    IdReveal.objects.create(staff=cast.dispatcher, volunteer=cast.volunteer, reason="核对身份")
    group = Group.objects.create(name="调度员")
    group.permissions.set(Permission.objects.filter(codename__in=["view_servicerequest", "view_offer"]))
    Token.objects.create(user=cast.admin)


def _admin_pages(admin_user) -> tuple[list[str], set[str]]:
    """Every registered model's list, its add form (where the admin may add) and the change form
    of its first row; and the labels of the models whose change form is among them."""
    request = RequestFactory().get("/admin/")
    request.user = admin_user
    pages, changed = [], set()
    for model, model_admin in admin.site._registry.items():
        meta = model._meta
        base = f"/admin/{meta.app_label}/{meta.model_name}/"
        pages.append(base)
        if model_admin.has_add_permission(request):
            pages.append(f"{base}add/")
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            pages.append(f"{base}{first.pk}/change/")
            changed.add(meta.label)
    return pages, changed


def _log_in(page: Page, base: str, phone: str) -> None:
    page.goto(f"{base}/admin/login/")
    page.locator("#id_username").fill(phone)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("#login-form input[type=submit]").click()
    expect(page).to_have_url(f"{base}/admin/")


@pytest.mark.django_db(transaction=True)
def test_every_admin_page_has_no_serious_axe_finding(browser: Browser, live_server, cast, rows) -> None:
    pages, changed = _admin_pages(cast.admin)
    assert changed == {label for label in (m._meta.label for m in admin.site._registry)}  # every change form
    base = live_server.url
    found: dict[str, list[str]] = {}
    for language in LANGUAGES:
        # One context a language: its log-in serves every page after it.
        context, page = new_page(browser, DESKTOP)
        context.add_cookies([{"name": "django_language", "value": language, "url": base}])
        page.goto(f"{base}/admin/login/")
        if problems := serious_axe_findings(page):
            found[f"{language} {base}/admin/login/"] = problems
        _log_in(page, base, cast.admin.phone)
        for path in ["/admin/", *pages]:
            # goto waits for the load event, by which filter_horizontal and treebeard have drawn their controls.
            response = page.goto(f"{base}{path}")
            assert response is not None and response.status == 200, f"{language} {path}"
            if problems := serious_axe_findings(page):
                found[f"{language} {base}{path}"] = problems
        assert page.errors == []  # type: ignore[attr-defined]
        context.close()
    assert found == {}, "\n".join(f"{url}:\n  " + "\n  ".join(problems) for url, problems in found.items())


@pytest.mark.django_db
def test_the_admin_carries_the_platforms_name(client, cast) -> None:
    login = client.get("/admin/login/").content.decode()
    assert f'<div id="site-name"><a href="/admin/">{HEADER}</a></div>' in login
    assert f"<title>登录 | {HEADER}</title>" in login
    assert "Django" not in login

    client.force_login(cast.admin)
    index = client.get("/admin/").content.decode()
    assert f'<div id="site-name"><a href="/admin/">{HEADER}</a></div>' in index
    assert f"<title>管理首页 | {HEADER}</title>" in index
    assert "<h1>管理首页</h1>" in index
    assert "Django" not in index


@pytest.mark.django_db
def test_inputs_without_a_label_of_their_own_are_named(client, cast, org) -> None:
    client.force_login(cast.admin)
    offer_form = client.get("/admin/dispatch/offer/add/").content.decode()
    # Django's split date and time inputs: the field's label points at neither.
    assert 'id="id_expires_at_0" aria-label="答复截止时间（日期）"' in offer_form
    assert 'id="id_expires_at_1" aria-label="答复截止时间（时间）"' in offer_form
    # list_editable cells: by column and row.
    categories = client.get("/admin/organisation/servicecategory/").content.decode()
    assert 'name="form-0-auto_accept" aria-label="自动受理（便民服务）"' in categories
    assert 'class="vIntegerField" min="0" aria-label="排序（便民服务）" id="id_form-0-sort_order"' in categories
    # The search box: by text, not by an image with an English alt.
    users = client.get("/admin/accounts/user/").content.decode()
    search_label = '<label for="searchbar"><img src="/static/admin/img/search.svg" alt="">'
    assert f'{search_label}<span class="visually-hidden">搜索</span></label>' in users


@pytest.fixture
def english(settings, tmp_path):
    """English from the committed .po, compiled here, not from whatever .mo is on disk."""
    target = tmp_path / "locale" / "en" / "LC_MESSAGES"
    target.mkdir(parents=True)
    po = ROOT / "locale" / "en" / "LC_MESSAGES" / "django.po"
    with po.open("rb") as source, (target / "django.mo").open("wb") as mo:
        write_mo(mo, read_po(source, abort_invalid=True))
    settings.LOCALE_PATHS = [tmp_path / "locale"]


@pytest.mark.django_db
def test_the_admin_carries_the_platforms_name_in_english(client, cast, english) -> None:
    client.force_login(cast.admin)
    index = client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f'<div id="site-name"><a href="/admin/">{HEADER_EN}</a></div>' in index
    assert f"<title>Administration home | {HEADER_EN}</title>" in index
    assert "Django" not in index
