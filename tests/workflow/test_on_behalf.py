"""代点单: staff entering a request for a resident is its review. The request is accepted (受理)
as it is entered, with the event saying so and the staff member as its actor; the resident is
told it was accepted, the staff member is told nothing of their own entry. The contact is the
resident unless staff untick "联系人就是该群众". The page and the API behave the same."""

import pytest
from django.test import Client

from apps.accounts.models import User
from apps.notifications.models import Notification
from apps.organisation.models import ServiceCategory
from apps.service_requests.models import RequestEvent, ServiceRequest, Status
from apps.workflow.forms import OnBehalfRequestForm
from tests.conftest import Cast
from tests.service_requests.factories import request_payload
from tests.workflow.scenario import db_state

TITLE = "陪同老人去医院复查"
RESIDENT_NAME, RESIDENT_PHONE = "郭大爷", "13566667777"


def _form(org: dict, **changes: str) -> dict[str, str]:
    data = {
        "requester_name": RESIDENT_NAME,
        "requester_phone": RESIDENT_PHONE,
        "channel": "phone",
        "category": str(org["category"].id),
        "title": TITLE,
        "description": "需要一位志愿者陪同前往市医院。",
        "village": str(org["village_a1"].id),
        "address": "太平庄村南街3号",
        "urgency": "normal",
        "volunteers_needed": "1",
        "window_start": "",
        "window_end": "",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def _story(request: ServiceRequest) -> list[tuple[str, str, int | None, str, str]]:
    """(from, to, actor, reason code, reason as read) of each event, in order."""
    return [
        (e.from_status, e.to_status, e.actor_id, e.reason_code, e.display_reason)
        for e in RequestEvent.objects.filter(request=request).order_by("created_at", "id")
    ]


def _kinds(user: User) -> list[str]:
    return sorted(Notification.objects.filter(recipient=user).values_list("kind", flat=True))


def _accepted_on_entry(created: ServiceRequest, cast: Cast, staff: User, channel: str = "电话代点单") -> None:
    assert created.status == Status.QUEUED
    assert _story(created) == [
        ("", Status.SUBMITTED, staff.id, "entered_on_behalf", f"由工作人员代点单（{channel}）"),
        (Status.SUBMITTED, Status.QUEUED, staff.id, "accepted_on_entry", "工作人员代点单，录入即受理"),
    ]
    # The resident is told it was accepted (not "received, we will review it").
    assert _kinds(created.requester) == ["queued"]
    # Whoever entered it is told nothing; the others of the area learn a request is waiting.
    everyone = {
        "staff_a": cast.staff_a,
        "station_staff_a1": cast.station_staff_a1,
        "sub_centre_staff": cast.sub_centre_staff,
        "staff_b": cast.staff_b,
        "dispatcher": cast.dispatcher,
    }
    told = {name: _kinds(user) for name, user in everyone.items()}
    expected = {"staff_a": ["new_in_queue"], "station_staff_a1": ["new_in_queue"], "sub_centre_staff": ["new_in_queue"]}
    expected = {name: expected.get(name, []) for name in everyone}
    expected[next(name for name, user in everyone.items() if user == staff)] = []
    assert told == expected


# --------------------------------------------------------------------------- the page


def test_the_page_starts_with_the_contact_being_the_resident(client: Client, cast: Cast, org) -> None:
    client.force_login(cast.staff_a)
    html = client.get("/s/requests/new/").content.decode()
    assert (
        '<label class="check" for="id_contact_is_requester"><input type="checkbox" name="contact_is_requester"'
        ' aria-describedby="id_contact_is_requester_helptext" id="id_contact_is_requester" checked> 联系人就是该群众'
        "</label>"
    ) in html
    assert (
        '<small id="id_contact_is_requester_helptext">'
        "勾选后，联系人和联系电话按群众姓名和手机号填写，下面两项可不填。</small>" in html
    )
    # The box sits just before the contact it stands for.
    assert html.index('name="address"') < html.index('name="contact_is_requester"') < html.index('name="contact_name"')


def test_ticked_the_contact_is_copied_from_the_resident_and_the_request_is_accepted(
    client: Client, cast: Cast, org
) -> None:
    client.force_login(cast.station_staff_a1)
    response = client.post("/s/requests/new/", _form(org, contact_is_requester="on"))
    created = ServiceRequest.objects.get(title=TITLE)
    assert response.status_code == 302
    assert response["Location"] == f"/s/requests/{created.id}/"
    assert (created.requester.name, created.requester.phone) == (RESIDENT_NAME, RESIDENT_PHONE)
    assert (created.contact_name, created.contact_phone) == (RESIDENT_NAME, RESIDENT_PHONE)
    assert (created.entered_by, created.channel) == (cast.station_staff_a1, "phone")
    _accepted_on_entry(created, cast, cast.station_staff_a1)
    page = client.get(response["Location"]).content.decode()
    assert "已代群众点单并受理，工单已进入派单队列。" in page


def test_ticked_a_contact_typed_anyway_gives_way_to_the_resident(client: Client, cast: Cast, org) -> None:
    client.force_login(cast.staff_a)
    data = _form(org, contact_is_requester="on", contact_name="郭小军", contact_phone="not a phone")
    assert client.post("/s/requests/new/", data).status_code == 302
    created = ServiceRequest.objects.get(title=TITLE)
    assert (created.contact_name, created.contact_phone) == (RESIDENT_NAME, RESIDENT_PHONE)
    _accepted_on_entry(created, cast, cast.staff_a)


def test_unticked_the_contact_is_as_typed(client: Client, cast: Cast, org) -> None:
    client.force_login(cast.staff_a)
    data = _form(org, channel="desk", contact_name="郭小军", contact_phone="0312-3456789")
    assert client.post("/s/requests/new/", data).status_code == 302
    created = ServiceRequest.objects.get(title=TITLE)
    assert (created.contact_name, created.contact_phone) == ("郭小军", "03123456789")  # stored without the dash
    _accepted_on_entry(created, cast, cast.staff_a, channel="窗口代点单")


@pytest.mark.parametrize(
    ("typed", "errors"),
    [
        ({}, {"contact_name": ["该字段是必填项。"], "contact_phone": ["该字段是必填项。"]}),
        ({"contact_name": "郭小军"}, {"contact_phone": ["该字段是必填项。"]}),
        ({"contact_phone": "0312-3456789"}, {"contact_name": ["该字段是必填项。"]}),
        ({"contact_name": "  ", "contact_phone": "0312-3456789"}, {"contact_name": ["该字段是必填项。"]}),
    ],
)
def test_unticked_the_contact_is_required_and_nothing_is_created(
    client: Client, cast: Cast, org, typed: dict, errors: dict
) -> None:
    client.force_login(cast.staff_a)
    before = db_state()
    response = client.post("/s/requests/new/", _form(org, **typed))
    assert response.status_code == 200
    assert db_state() == before
    assert not User.objects.filter(phone=RESIDENT_PHONE).exists()
    assert {name: list(e) for name, e in response.context["form"].errors.items()} == errors


def test_unticked_a_wrong_contact_phone_is_named(cast: Cast, org) -> None:
    form = OnBehalfRequestForm(_form(org, contact_name="郭小军", contact_phone="12"))
    assert not form.is_valid()
    assert list(form.errors) == ["contact_phone"]


def test_out_of_the_area_nothing_is_created_and_nobody_is_told(client: Client, cast: Cast, org) -> None:
    client.force_login(cast.staff_b)
    before = db_state()
    response = client.post("/s/requests/new/", _form(org, contact_is_requester="on"))
    assert response.status_code == 200
    assert "该村/社区不在您的服务范围内。" in response.content.decode()
    assert db_state() == before


def test_an_auto_accept_category_is_still_accepted_by_the_staff_entry(client: Client, cast: Cast, org) -> None:
    ServiceCategory.objects.filter(id=org["category"].id).update(auto_accept=True)
    client.force_login(cast.staff_a)
    assert client.post("/s/requests/new/", _form(org, contact_is_requester="on")).status_code == 302
    _accepted_on_entry(ServiceRequest.objects.get(title=TITLE), cast, cast.staff_a)


# --------------------------------------------------------------------------- the API


def _payload(org: dict, **changes: object) -> dict:
    payload = request_payload(
        category=org["category"],
        village=org["village_a1"],
        title=TITLE,
        requester_phone=RESIDENT_PHONE,
        requester_name=RESIDENT_NAME,
        channel="phone",
    )
    payload.update(changes)
    return {k: v for k, v in payload.items() if v is not None}


def test_api_entry_is_accepted_at_once(api, cast: Cast, org) -> None:
    response = api(cast.staff_a).post("/api/v1/requests/on-behalf/", _payload(org), format="json")
    assert response.status_code == 201, response.content
    assert (response.json()["status"], response.json()["status_display"]) == ("queued", "待派单")
    created = ServiceRequest.objects.get(id=response.json()["id"])
    assert (created.contact_name, created.contact_phone) == ("王秀兰", "13912345678")  # as sent
    _accepted_on_entry(created, cast, cast.staff_a)


@pytest.mark.parametrize("flag", [True, "true", "on", 1])
def test_api_contact_is_requester_takes_the_residents_name_and_phone(api, cast: Cast, org, flag) -> None:
    body = _payload(org, contact_is_requester=flag, contact_name=None, contact_phone=None)
    response = api(cast.staff_a).post("/api/v1/requests/on-behalf/", body, format="json")
    assert response.status_code == 201, response.content
    created = ServiceRequest.objects.get(id=response.json()["id"])
    assert (created.contact_name, created.contact_phone) == (RESIDENT_NAME, RESIDENT_PHONE)
    _accepted_on_entry(created, cast, cast.staff_a)


def test_api_contact_is_requester_ignores_a_contact_sent_along(api, cast: Cast, org) -> None:
    body = _payload(org, contact_is_requester=True, contact_name="郭小军", contact_phone="12")
    response = api(cast.staff_a).post("/api/v1/requests/on-behalf/", body, format="json")
    assert response.status_code == 201, response.content
    created = ServiceRequest.objects.get(id=response.json()["id"])
    assert (created.contact_name, created.contact_phone) == (RESIDENT_NAME, RESIDENT_PHONE)


@pytest.mark.parametrize("flag", [False, None, "false"])
def test_api_without_the_flag_the_contact_is_required_with_the_other_wrong_fields(api, cast: Cast, org, flag) -> None:
    before = db_state()
    body = _payload(org, contact_is_requester=flag, contact_name=None, contact_phone=None, title="修" * 81)
    response = api(cast.staff_a).post("/api/v1/requests/on-behalf/", body, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid"
    assert sorted(response.json()["errors"]) == ["contact_name", "contact_phone", "title"]
    assert db_state() == before


def test_api_out_of_the_area_is_refused_and_nothing_is_created(api, cast: Cast, org) -> None:
    before = db_state()
    body = _payload(org, contact_is_requester=True)
    response = api(cast.staff_b).post("/api/v1/requests/on-behalf/", body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "out_of_area"
    assert db_state() == before
