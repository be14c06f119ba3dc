"""``load_places``: Zhuozhou's divisions, the practice network and the service categories, loaded
from the bundled CSV, idempotently, with coordinates replaced by a corrected file."""

import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command

from apps.organisation.models import OrgNode, Place, ServiceCategory
from apps.organisation.selectors import org_subtree
from apps.organisation.services import (
    CATEGORIES_JSON,
    CENTRE_NAME,
    CENTRE_OFFICE_NAME,
    DIVISIONS_CSV,
    SUB_CENTRE_NAMES,
    VILLAGES_CSV,
)

pytestmark = pytest.mark.django_db


def _csv_rows(path: Path = DIVISIONS_CSV) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _villages_in_csv() -> dict[str, list[str]]:
    """Township name → its villages and communities, as the 2023 division codes list them."""
    villages: dict[str, list[str]] = {}
    for row in _csv_rows(VILLAGES_CSV):
        villages.setdefault(row["township_name"], []).append(row["name"])
    return villages


def _load(csv_path: Path | None = None) -> str:
    out = io.StringIO()
    if csv_path is None:
        call_command("load_places", stdout=out)
    else:
        call_command("load_places", "--csv", str(csv_path), stdout=out)
    return out.getvalue()


def _snapshot() -> dict[str, object]:
    return {
        "places": sorted(Place.objects.values_list("id", "kind", "parent_id", "name")),
        "nodes": sorted(OrgNode.objects.values_list("id", "path", "kind", "name", "place_id")),
        "categories": sorted(ServiceCategory.objects.values_list("id", "code", "name")),
    }


def test_bundled_csv_describes_fourteen_townships_and_unique_villages() -> None:
    villages = _villages_in_csv()

    assert len(villages) == 14
    for township, names in villages.items():
        assert len(names) == len(set(names)), township
    rows = _csv_rows(VILLAGES_CSV)
    # 402 villages, one per village station of the seed, and 48 communities.
    assert [sum(row["kind"] == kind for row in rows) for kind in ("village", "community")] == [402, 48]
    codes = [row["code"] for row in rows]
    assert len(set(codes)) == 450
    assert all(len(code) == 12 and code.isdigit() for code in codes)
    townships = {row["code"]: row["name"] for row in _csv_rows() if row["kind"] != "city"}
    assert all(townships[row["township_code"]] == row["township_name"] for row in rows)
    assert all(row["code"].startswith(row["township_code"]) for row in rows)


def test_load_places_creates_the_city_fourteen_townships_and_every_village_of_the_csv() -> None:
    villages = _villages_in_csv()
    village_count = sum(len(names) for names in villages.values())

    output = _load()

    assert village_count == 450
    assert output.strip() == "places: 14 townships, 450 villages; stations: 450; categories: 11"
    assert Place.objects.filter(kind=Place.Kind.CITY).count() == 1
    city = Place.objects.get(kind=Place.Kind.CITY)
    assert (city.code, city.name) == ("130681", "涿州市")
    assert Place.objects.filter(kind=Place.Kind.TOWNSHIP).count() == 14
    assert set(Place.objects.filter(kind=Place.Kind.TOWNSHIP).values_list("parent_id", flat=True)) == {city.id}
    assert Place.objects.filter(kind=Place.Kind.VILLAGE).count() == village_count
    loaded = {
        township: sorted(
            Place.objects.filter(parent__name=township, kind=Place.Kind.VILLAGE).values_list("name", flat=True)
        )
        for township in villages
    }
    assert loaded == {township: sorted(names) for township, names in villages.items()}


def test_load_places_builds_the_centre_its_office_five_sub_centres_and_one_office_per_township() -> None:
    _load()

    centre = OrgNode.objects.get_root_nodes().get()
    assert (centre.name, centre.kind, centre.place.code) == (CENTRE_NAME, OrgNode.Kind.CENTRE, "130681")
    children = list(OrgNode.objects.get_children(centre).values_list("kind", "name"))
    assert sorted(name for kind, name in children if kind == OrgNode.Kind.CENTRE_OFFICE) == [CENTRE_OFFICE_NAME]
    assert sorted(name for kind, name in children if kind == OrgNode.Kind.SUB_CENTRE) == sorted(SUB_CENTRE_NAMES)
    assert len(SUB_CENTRE_NAMES) == 5
    offices = OrgNode.objects.filter(kind=OrgNode.Kind.TOWNSHIP_OFFICE)
    assert offices.count() == 14
    assert all(office.depth == 2 for office in offices)
    assert set(offices.values_list("place_id", flat=True)) == set(
        Place.objects.filter(kind=Place.Kind.TOWNSHIP).values_list("id", flat=True)
    )
    assert (
        OrgNode.objects.get(kind=OrgNode.Kind.TOWNSHIP_OFFICE, place__name="桃园街道").name
        == "桃园街道新时代文明实践所"
    )
    assert OrgNode.objects.count() == 1 + 1 + 5 + 14 + Place.objects.filter(kind=Place.Kind.VILLAGE).count()
    # The materialised paths, depths and child counts are consistent after sorted insertions.
    assert OrgNode.objects.find_problems() == ([], [], [], [], [])


def test_load_places_gives_every_village_exactly_one_station_under_its_township_office() -> None:
    _load()

    villages = Place.objects.filter(kind=Place.Kind.VILLAGE).select_related("parent")
    stations = OrgNode.objects.filter(kind=OrgNode.Kind.VILLAGE_STATION).select_related("place")
    assert stations.count() == villages.count()
    assert sorted(s.place_id for s in stations) == sorted(v.id for v in villages)
    offices = {o.place_id: o for o in OrgNode.objects.filter(kind=OrgNode.Kind.TOWNSHIP_OFFICE)}
    for station in stations:
        office = offices[station.place.parent_id]
        assert station.depth == 3
        assert station.path.startswith(office.path), station.name
        assert station.name == f"{station.place.name}新时代文明实践站"


def test_load_places_creates_the_eleven_service_categories_in_order() -> None:
    _load()

    expected = json.loads(CATEGORIES_JSON.read_text(encoding="utf-8"))
    assert len(expected) == 11
    assert list(
        ServiceCategory.objects.order_by("sort_order").values_list("code", "name", "name_en", "sort_order")
    ) == [(item["code"], item["name"], item["name_en"], order) for order, item in enumerate(expected)]
    assert ServiceCategory.objects.filter(is_active=True).count() == 11


def test_load_places_run_twice_creates_no_duplicates_and_keeps_every_row() -> None:
    _load()
    first = _snapshot()

    _load()

    assert _snapshot() == first
    assert OrgNode.objects.find_problems() == ([], [], [], [], [])


def test_second_run_keeps_categories_that_administrators_switched_to_auto_accept() -> None:
    _load()
    ServiceCategory.objects.filter(code="convenience").update(auto_accept=True, is_active=False)

    _load()

    assert ServiceCategory.objects.filter(code="convenience").values_list("auto_accept", "is_active").get() == (
        True,
        False,
    )


def test_reimporting_a_corrected_csv_replaces_the_estimated_coordinates(tmp_path: Path) -> None:
    _load()
    before = _snapshot()
    rows = _csv_rows()
    for row in rows:
        if row["name"] == "桃园街道":
            row.update(lat="39.471234", lng="115.956789", coords_are="published")
        if row["kind"] == "city":
            row.update(lat="39.480000", lng="115.970000")
    corrected = tmp_path / "divisions.csv"
    with corrected.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    _load(corrected)

    taoyuan = Place.objects.get(kind=Place.Kind.TOWNSHIP, name="桃园街道")
    assert (taoyuan.latitude, taoyuan.longitude, taoyuan.coordinates_are_estimate) == (
        Decimal("39.471234"),
        Decimal("115.956789"),
        False,
    )
    # The city's point is published, not an estimate: a file does not move it (an operator may).
    city = Place.objects.get(kind=Place.Kind.CITY)
    assert (city.latitude, city.longitude, city.coordinates_are_estimate) == (
        Decimal("39.486000"),
        Decimal("115.974000"),
        False,
    )
    # Rows that did not change keep the values of the bundled file.
    original = next(row for row in _csv_rows() if row["name"] == "码头镇")
    matou = Place.objects.get(kind=Place.Kind.TOWNSHIP, name="码头镇")
    assert (matou.latitude, matou.longitude, matou.coordinates_are_estimate) == (
        Decimal(original["lat"]),
        Decimal(original["lng"]),
        True,
    )
    assert _snapshot() == before


def test_org_subtree_of_a_township_office_is_the_office_and_its_stations_in_one_query(
    django_assert_num_queries,
) -> None:
    _load()
    office = OrgNode.objects.get(kind=OrgNode.Kind.TOWNSHIP_OFFICE, place__name="桃园街道")
    expected = {office.id} | set(
        OrgNode.objects.filter(kind=OrgNode.Kind.VILLAGE_STATION, place__parent=office.place).values_list(
            "id", flat=True
        )
    )
    assert len(expected) == 1 + len(_villages_in_csv()["桃园街道"])

    with django_assert_num_queries(1):
        subtree = list(org_subtree(node=office))

    assert {node.id for node in subtree} == expected
    assert {node.kind for node in subtree} == {OrgNode.Kind.TOWNSHIP_OFFICE, OrgNode.Kind.VILLAGE_STATION}


def test_every_village_has_its_division_code_and_no_generated_place_is_left() -> None:
    _load()

    loaded = dict(Place.objects.filter(kind=Place.Kind.VILLAGE).values_list("code", "name"))
    assert loaded == {row["code"]: row["name"] for row in _csv_rows(VILLAGES_CSV)}
    assert not Place.objects.filter(name__startswith="示例").exists()
    assert (
        Place.objects.filter(code="130681002209").values_list("parent__name", flat=True).get(),
        OrgNode.objects.get(place__code="130681002209").name,
    ) == ("桃园街道", "太平庄村新时代文明实践站")


def test_a_village_loaded_before_codes_were_known_gets_its_code_and_keeps_its_id_and_station() -> None:
    city = Place.objects.create(code="130681", name="涿州市", kind=Place.Kind.CITY)
    taoyuan = Place.objects.create(code="130681002", name="桃园街道", kind=Place.Kind.TOWNSHIP, parent=city)
    taiping = Place.objects.create(name="太平庄村", kind=Place.Kind.VILLAGE, parent=taoyuan)
    centre = OrgNode.objects.add_root(dict(name=CENTRE_NAME, kind=OrgNode.Kind.CENTRE, place=city))
    office = OrgNode.objects.add_child(
        centre, dict(name="桃园街道新时代文明实践所", kind=OrgNode.Kind.TOWNSHIP_OFFICE, place=taoyuan)
    )
    station = OrgNode.objects.add_child(
        office, dict(name="太平庄村新时代文明实践站", kind=OrgNode.Kind.VILLAGE_STATION, place=taiping)
    )

    _load()

    taiping.refresh_from_db()
    assert taiping.code == "130681002209"
    assert OrgNode.objects.get(place=taiping).id == station.id
    assert Place.objects.filter(kind=Place.Kind.VILLAGE).count() == 450
    assert OrgNode.objects.filter(kind=OrgNode.Kind.VILLAGE_STATION).count() == 450
    assert OrgNode.objects.find_problems() == ([], [], [], [], [])


def test_coordinates_an_operator_set_in_the_admin_survive_a_reload(client, cast) -> None:
    client.force_login(cast.admin)
    admin_client = client
    _load()
    matou = Place.objects.get(kind=Place.Kind.TOWNSHIP, name="码头镇")
    assert matou.coordinates_are_estimate

    response = admin_client.post(
        f"/admin/organisation/place/{matou.id}/change/",
        {
            "code": matou.code,
            "name": matou.name,
            "kind": matou.kind,
            "parent": matou.parent_id,
            "latitude": "39.412345",
            "longitude": "116.012345",
            "coordinates_are_estimate": "on",  # left ticked as it was: the form unticks nothing itself
        },
    )
    assert response.status_code == 302
    matou.refresh_from_db()
    assert (matou.latitude, matou.longitude, matou.coordinates_are_estimate) == (
        Decimal("39.412345"),
        Decimal("116.012345"),
        False,
    )

    _load()

    matou.refresh_from_db()
    assert (matou.latitude, matou.longitude, matou.coordinates_are_estimate) == (
        Decimal("39.412345"),
        Decimal("116.012345"),
        False,
    )
