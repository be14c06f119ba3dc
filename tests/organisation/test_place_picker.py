"""The village picker field (``apps.organisation.forms.VillageField``) and the pages that use it:
点单 (/r/requests/new/) and 代点单 (/s/requests/new/), pre-filled with the user's village."""

import re

import pytest
from django import forms
from django.test import Client

from apps.organisation.forms import VillageField
from apps.organisation.models import Place
from apps.service_requests.models import ServiceRequest, Status
from tests.conftest import Cast

pytestmark = pytest.mark.django_db


class PickerForm(forms.Form):
    village = VillageField(label="所在村/社区")


class OptionalPickerForm(forms.Form):
    village = VillageField(label="常住村/社区", required=False)


def _village_select(html: str, name: str = "village") -> str:
    match = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', html, re.S)
    assert match is not None, html
    return match.group(1)


def _selected_villages(html: str) -> list[str]:
    """The labels of the selected options of the village select (the form's real control)."""
    return re.findall(r'<option value="\d+" selected>([^<]+)</option>', _village_select(html))


def _selected_townships(html: str) -> list[str]:
    """The township the enhanced picker starts on (its ``<select>`` has no name)."""
    match = re.search(r'<select id="id_village_township"[^>]*>(.*?)</select>', html, re.S)
    assert match is not None, html
    return [
        label
        for value, label in re.findall(r'<option value="([^"]+)" selected>([^<]+)</option>', match.group(1))
        if value == label  # a township is named by its name: the script matches it to the optgroup label
    ]


# ---- the field


def test_a_village_cleans_to_the_place_with_its_township(org, django_assert_num_queries) -> None:
    form = PickerForm({"village": str(org["village_b1"].id)})
    with django_assert_num_queries(1):  # the village with its township
        assert form.is_valid()
        village = form.cleaned_data["village"]
        assert (village, village.kind, village.parent) == (org["village_b1"], Place.Kind.VILLAGE, org["township_b"])


@pytest.mark.parametrize("key", ["township_a", "township_b"])
def test_a_township_is_refused_with_a_clear_message(org, key: str) -> None:
    form = PickerForm({"village": str(org[key].id)})
    assert not form.is_valid()
    assert form.errors.as_data()["village"][0].code == "not_village"
    assert form.errors["village"] == ["请选择具体的村或社区，而不是乡镇/街道。"]


def test_the_city_is_refused_like_a_township(org) -> None:
    city = Place.objects.get(kind=Place.Kind.CITY)
    form = PickerForm({"village": str(city.id)})
    assert not form.is_valid()
    assert form.errors["village"] == ["请选择具体的村或社区，而不是乡镇/街道。"]


@pytest.mark.parametrize(
    "value", ["999999", "0", "-3", "abc", "1.5", "１２", "99999999999999999999999", "5; DROP TABLE", "\x00"]
)
def test_an_unknown_or_malformed_id_is_refused_with_a_clear_message(org, value: str) -> None:
    form = PickerForm({"village": value})
    assert not form.is_valid()
    assert form.errors.as_data()["village"][0].code == "invalid_choice"
    assert form.errors["village"] == ["没有这个村/社区，请重新选择。"]


@pytest.mark.parametrize("value", ["", "   "])
def test_no_village_is_refused_when_required_and_none_when_optional(org, value: str) -> None:
    required = PickerForm({"village": value})
    assert not required.is_valid()
    assert required.errors["village"] == ["请选择村/社区。"]
    optional = OptionalPickerForm({"village": value})
    assert optional.is_valid()
    assert optional.cleaned_data["village"] is None


def test_the_field_renders_villages_grouped_by_township_in_one_query(org, django_assert_num_queries) -> None:
    with django_assert_num_queries(1):  # villages with their townships
        html = str(PickerForm()["village"])
    select = _village_select(html)
    assert re.findall(r'<optgroup label="([^"]+)">', select) == ["桃园街道", "码头镇"]
    groups = re.findall(r'<optgroup label="([^"]+)">(.*?)</optgroup>', select, re.S)
    assert [(name, re.findall(r">([^<]+)</option>", body)) for name, body in groups] == [
        ("桃园街道", sorted(["太平庄村", "东庄头村"])),
        ("码头镇", ["码头村"]),
    ]
    assert '<option value="" selected>请选择村/社区</option>' in select
    assert _selected_villages(html) == []
    assert _selected_townships(html) == []
    # The enhancement stays hidden until the script runs; the page needs nothing else.
    assert '<div class="pp-controls" hidden>' in html
    assert "/static/js/place-picker.js" in html and "/static/css/place-picker.css" in html
    assert '<label class="pp-label" for="id_village_search">按村名查找</label>' in html


@pytest.mark.parametrize("as_id", [False, True])
def test_the_initial_village_is_selected_with_its_township(org, as_id: bool) -> None:
    village = org["village_b1"]
    html = str(PickerForm(initial={"village": village.id if as_id else village})["village"])
    assert _selected_villages(html) == ["码头村"]
    assert _selected_townships(html) == ["码头镇"]


def test_field_initial_works_too(org) -> None:
    class Form(forms.Form):
        village = VillageField(label="村", initial=org["village_a2"].id)

    html = str(Form()["village"])
    # Django drops the empty choice of a required field with an initial value; the township
    # select does not depend on it.
    assert '<option value="">' not in _village_select(html)
    assert _selected_villages(html) == ["东庄头村"]
    assert _selected_townships(html) == ["桃园街道"]


def test_a_bad_submission_is_shown_again_with_nothing_selected(org) -> None:
    form = PickerForm({"village": str(org["township_a"].id)})
    assert not form.is_valid()
    html = str(form["village"])
    assert _selected_villages(html) == []
    assert "请选择具体的村或社区，而不是乡镇/街道。" in str(form.errors)


# ---- 点单 and 代点单


def _request_data(village: Place) -> dict[str, str]:
    return {
        "title": "陪同老人去医院复查",
        "description": "需要一位志愿者陪同前往市医院。",
        "village": str(village.id),
        "address": "南街3号",
        "contact_name": "王秀兰",
        "contact_phone": "0312-3456789",
        "urgency": "normal",
        "volunteers_needed": "1",
    }


def test_new_request_page_starts_on_the_residents_home_village(client: Client, cast: Cast, org) -> None:
    cast.resident.home_township = org["township_b"]
    cast.resident.home_village = org["village_b1"]
    cast.resident.save(update_fields=["home_township", "home_village"])
    client.force_login(cast.resident)
    response = client.get("/r/requests/new/")
    assert response.status_code == 200
    html = response.content.decode()
    assert _selected_villages(html) == ["码头村"]
    assert _selected_townships(html) == ["码头镇"]


def test_new_request_page_of_a_volunteer_starts_on_the_profiles_home_village(client: Client, cast: Cast, org) -> None:
    assert cast.volunteer.user.home_village_id is None
    client.force_login(cast.volunteer.user)
    html = client.get("/r/requests/new/").content.decode()
    assert _selected_villages(html) == ["太平庄村"]
    assert _selected_townships(html) == ["桃园街道"]


def test_new_request_page_without_a_home_village_starts_empty(client: Client, cast: Cast) -> None:
    client.force_login(cast.resident)
    html = client.get("/r/requests/new/").content.decode()
    assert _selected_villages(html) == []
    assert _selected_townships(html) == []


def test_new_request_page_submits_the_picked_village(client: Client, cast: Cast, org) -> None:
    client.force_login(cast.resident)
    data = {**_request_data(org["village_b1"]), "category": str(org["category"].id)}
    response = client.post("/r/requests/new/", data)
    created = ServiceRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/r/requests/{created.id}/"
    assert (created.village, created.township, created.station, created.status) == (
        org["village_b1"],
        org["township_b"],
        org["station_b1"],
        Status.SUBMITTED,
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("township_a", "请选择具体的村或社区，而不是乡镇/街道。"),
        ("999999", "没有这个村/社区，请重新选择。"),
        ("", "请选择村/社区。"),
    ],
)
def test_new_request_page_refuses_a_bad_place_and_creates_nothing(
    client: Client, cast: Cast, org, value: str, message: str
) -> None:
    client.force_login(cast.resident)
    data = {**_request_data(org["village_a1"]), "category": str(org["category"].id)}
    data["village"] = str(org[value].id) if value in org else value
    response = client.post("/r/requests/new/", data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert ServiceRequest.objects.count() == 0


@pytest.mark.parametrize(
    ("role", "village", "township"),
    [
        ("station_staff_a1", ["太平庄村"], ["桃园街道"]),  # a station: its own village
        ("staff_a", [], []),  # a township office covers many villages: nothing chosen
        ("dispatcher", [], []),
        ("admin", [], []),
    ],
)
def test_on_behalf_page_starts_on_the_staff_village_only_for_a_station(
    client: Client, cast: Cast, org, role: str, village: list[str], township: list[str]
) -> None:
    client.force_login(getattr(cast, role))
    response = client.get("/s/requests/new/")
    assert response.status_code == 200
    html = response.content.decode()
    assert (_selected_villages(html), _selected_townships(html)) == (village, township)


def test_on_behalf_page_submits_the_picked_village(client: Client, cast: Cast, org) -> None:
    client.force_login(cast.station_staff_a1)
    data = {
        **_request_data(org["village_a1"]),
        "category": str(org["category"].id),
        "requester_name": "郭大爷",
        "requester_phone": "13566667777",
        "channel": "phone",
    }
    response = client.post("/s/requests/new/", data)
    created = ServiceRequest.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/s/requests/{created.id}/"
    assert (created.village, created.township, created.entered_by, created.channel) == (
        org["village_a1"],
        org["township_a"],
        cast.station_staff_a1,
        "phone",
    )


def test_on_behalf_page_refuses_a_township_and_creates_nothing(client: Client, cast: Cast, org) -> None:
    client.force_login(cast.dispatcher)
    data = {
        **_request_data(org["village_a1"]),
        "village": str(org["township_b"].id),
        "category": str(org["category"].id),
        "requester_name": "郭大爷",
        "requester_phone": "13566667777",
        "channel": "phone",
    }
    response = client.post("/s/requests/new/", data)
    assert response.status_code == 200
    assert "请选择具体的村或社区，而不是乡镇/街道。" in response.content.decode()
    assert ServiceRequest.objects.count() == 0
