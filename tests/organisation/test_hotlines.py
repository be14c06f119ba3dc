"""服务热线: each node's own or, walking up the tree, its nearest ancestor's; the numbers it takes
(those of a contact phone), as the admin stores them, and the centre's set at loading."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from apps.accounts.phones import validate_contact_phone
from apps.demo.services import DEMO_CENTRE_HOTLINE, DEMO_TAOYUAN_HOTLINE, seed_demo
from apps.organisation.hotlines import normalize_hotline
from apps.organisation.models import OrgNode
from apps.organisation.selectors import centre_hotline, hotline_for

pytestmark = pytest.mark.django_db

CENTRE, OFFICE_A, STATION_A1 = "0312-3862345", "0312-3861234", "13812340000"


def _set(node: OrgNode, hotline: str) -> None:
    OrgNode.objects.filter(id=node.id).update(hotline=hotline)


def _fresh(node: OrgNode) -> OrgNode:
    return OrgNode.objects.get(id=node.id)


def test_a_station_without_a_hotline_answers_on_its_office_line_then_the_centre(org):
    _set(org["centre"], CENTRE)
    _set(org["office_a"], OFFICE_A)
    _set(org["station_a1"], STATION_A1)

    assert hotline_for(_fresh(org["station_a1"])) == STATION_A1
    assert hotline_for(_fresh(org["station_a2"])) == OFFICE_A  # no line of its own: its office's
    assert hotline_for(_fresh(org["station_b1"])) == CENTRE  # neither station nor office B has one
    assert hotline_for(_fresh(org["office_b"])) == CENTRE
    assert hotline_for(_fresh(org["sub_centre"])) == CENTRE
    assert hotline_for(_fresh(org["centre"])) == CENTRE

    _set(org["office_a"], "")
    assert hotline_for(_fresh(org["station_a2"])) == CENTRE


def test_the_nearest_hotline_wins_over_a_farther_one(org):
    # The office's line, not the centre's, though both are set and the centre's comes first by path.
    _set(org["centre"], CENTRE)
    _set(org["office_b"], "0312-3869999")
    assert hotline_for(_fresh(org["station_b1"])) == "0312-3869999"


def test_no_hotline_anywhere_up_the_tree_is_empty(org):
    _set(org["office_b"], OFFICE_A)  # another branch's line is not this one's
    assert hotline_for(_fresh(org["station_a1"])) == ""
    assert centre_hotline() == ""


def test_a_node_with_its_own_hotline_is_answered_without_a_query(org, django_assert_num_queries):
    _set(org["station_a1"], STATION_A1)
    _set(org["centre"], CENTRE)
    station, other = _fresh(org["station_a1"]), _fresh(org["station_a2"])
    with django_assert_num_queries(0):
        assert hotline_for(station) == STATION_A1
    with django_assert_num_queries(1):  # the node's ancestors that have a line, nearest first
        assert hotline_for(other) == CENTRE


def test_centre_hotline_is_the_roots(org):
    _set(org["office_a"], OFFICE_A)
    assert centre_hotline() == ""
    _set(org["centre"], CENTRE)
    assert centre_hotline() == CENTRE


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("0312-3862345", "0312-3862345"),
        ("03123862345", "0312-3862345"),
        ("(0312) 3862 345", "0312-3862345"),
        ("０３１２－３８６２３４５", "0312-3862345"),  # full-width, as a Chinese input method types it
        ("+86 0312 38623456", "0312-38623456"),
        ("010-62345678", "010-62345678"),
        ("02187654321", "021-87654321"),
        ("138 1234 0000", "13812340000"),
        ("+8613812340000", "13812340000"),
        ("", ""),
    ],
)
def test_a_hotline_is_stored_as_people_read_it(typed, stored):
    assert normalize_hotline(typed) == stored


@pytest.mark.parametrize(
    "number",
    [
        "0312-3862345",
        "0312-38623456",
        "0312-1862345",  # a local number never starts with 1
        "0312-386234",
        "010-6234567",  # Beijing numbers have 8 digits
        "010-62345678",
        "021-87654321",
        "0212-3456789",
        "0112-3456789",
        "13812340000",
        "12812340000",
        "1381234000",
        "12345",
        "0312-386234a",
        "电话",
    ],
)
def test_a_hotline_takes_exactly_the_numbers_a_contact_phone_takes(number):
    def verdict(check) -> bool:
        try:
            check(number)
        except ValidationError:
            return False
        return True

    assert verdict(normalize_hotline) == verdict(validate_contact_phone), number


def test_a_bad_hotline_says_what_to_type():
    with pytest.raises(ValidationError) as caught:
        normalize_hotline("12345")
    assert caught.value.messages == ["请输入手机号码或带区号的固定电话。"]


def _admin_post(client, node: OrgNode, hotline: str):
    parent = OrgNode.objects.get_parent(node)
    return client.post(
        f"/admin/organisation/orgnode/{node.id}/change/",
        {
            "name": node.name,
            "kind": node.kind,
            "place": node.place_id or "",
            "hotline": hotline,
            "treebeard_position": "sorted-child",
            "treebeard_ref_node": parent.id if parent else "",
        },
    )


def test_the_admin_stores_a_hotline_as_dialled_and_refuses_a_bad_one(client, cast, org):
    client.force_login(cast.admin)
    office = org["office_a"]

    response = _admin_post(client, office, "0312 3861234")
    assert response.status_code == 302
    assert _fresh(office).hotline == OFFICE_A

    response = _admin_post(client, office, "3861234")
    assert response.status_code == 200
    assert "请输入手机号码或带区号的固定电话。" in response.content.decode()
    assert _fresh(office).hotline == OFFICE_A

    response = _admin_post(client, office, "")
    assert response.status_code == 302
    assert _fresh(office).hotline == ""


def test_load_places_sets_the_centres_hotline_only_while_it_has_none():
    call_command("load_places", "--centre-hotline", "0312 3862345", stdout=io.StringIO())
    centre = OrgNode.objects.get(depth=1)
    assert centre.hotline == CENTRE
    assert OrgNode.objects.exclude(id=centre.id).exclude(hotline="").count() == 0

    OrgNode.objects.filter(id=centre.id).update(hotline="0312-3860000")  # an operator's, in the admin
    call_command("load_places", "--centre-hotline", CENTRE, stdout=io.StringIO())
    assert _fresh(centre).hotline == "0312-3860000"
    call_command("load_places", stdout=io.StringIO())
    assert _fresh(centre).hotline == "0312-3860000"


def test_load_places_refuses_a_bad_centre_hotline_before_writing_anything():
    with pytest.raises(CommandError, match="--centre-hotline: 请输入手机号码或带区号的固定电话。"):
        call_command("load_places", "--centre-hotline", "3862345")
    assert OrgNode.objects.count() == 0


def test_the_demo_answers_on_made_up_lines_and_keeps_an_operators():
    call_command("load_places", verbosity=0)
    call_command("load_teams", verbosity=0)
    matou_office = OrgNode.objects.get(kind=OrgNode.Kind.TOWNSHIP_OFFICE, place__name="码头镇")
    OrgNode.objects.filter(id=matou_office.id).update(hotline="0312-3860000")  # an operator's

    seed_demo()

    centre = OrgNode.objects.get(depth=1)
    taiping = OrgNode.objects.get(kind=OrgNode.Kind.VILLAGE_STATION, place__name="太平庄村")
    shuangta_station = OrgNode.objects.filter(kind=OrgNode.Kind.VILLAGE_STATION, place__parent__name="双塔街道").first()
    assert shuangta_station is not None
    assert (centre.hotline, DEMO_CENTRE_HOTLINE) == ("0312-3862345", "0312-3862345")
    assert hotline_for(taiping) == DEMO_TAOYUAN_HOTLINE == "0312-3861234"
    assert hotline_for(shuangta_station) == DEMO_CENTRE_HOTLINE
    assert _fresh(matou_office).hotline == "0312-3860000"
    assert dict(OrgNode.objects.exclude(hotline="").values_list("name", "hotline")) == {
        centre.name: DEMO_CENTRE_HOTLINE,
        "桃园街道新时代文明实践所": DEMO_TAOYUAN_HOTLINE,
        matou_office.name: "0312-3860000",
    }
