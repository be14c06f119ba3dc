"""Loading of places, the practice network and service categories."""

import csv
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.db import transaction

from .models import OrgNode, Place, ServiceCategory

DATA_DIR = Path(__file__).resolve().parent / "data"
DIVISIONS_CSV = DATA_DIR / "zhuozhou_divisions.csv"
CATEGORIES_JSON = DATA_DIR / "categories.json"

CENTRE_NAME = "涿州市新时代文明实践中心"
CENTRE_OFFICE_NAME = "新时代文明实践中心办公室"
SUB_CENTRE_NAMES = ["理论宣讲分中心", "教育体育分中心", "文化服务分中心", "科技科普分中心", "健康推进分中心"]


@dataclass(frozen=True)
class LoadResult:
    townships: int
    villages: int
    stations: int
    categories: int


def _child(parent: OrgNode, *, name: str, kind: str, place: Place | None = None) -> OrgNode:
    lookup = {"kind": kind, "place": place} if place is not None else {"kind": kind, "name": name}
    existing: OrgNode | None = OrgNode.objects.get_children(parent).filter(**lookup).first()
    if existing is not None:
        if existing.name != name:
            existing.name = name
            existing.save(update_fields=["name"])
        return existing
    created: OrgNode = OrgNode.objects.add_child(parent, dict(name=name, kind=kind, place=place))
    return created


def load_reference_data(*, csv_path: Path = DIVISIONS_CSV, categories_path: Path = CATEGORIES_JSON) -> LoadResult:
    """Create or update places, the organisation tree and categories. Idempotent.

    Coordinates in the CSV overwrite those in the database, so re-importing a corrected file
    is how an operator replaces the estimates.
    """
    with csv_path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    categories = json.loads(categories_path.read_text(encoding="utf-8"))

    with transaction.atomic():
        city_row = next(r for r in rows if r["kind"] == "city")
        city, _ = Place.objects.update_or_create(
            code=city_row["code"],
            defaults={
                "name": city_row["name"],
                "kind": Place.Kind.CITY,
                "latitude": Decimal(city_row["lat"]),
                "longitude": Decimal(city_row["lng"]),
                "coordinates_are_estimate": city_row["coords_are"] != "published",
            },
        )
        root = OrgNode.objects.get_root_nodes().filter(kind=OrgNode.Kind.CENTRE).first()
        if root is None:
            root = OrgNode.objects.add_root(dict(name=CENTRE_NAME, kind=OrgNode.Kind.CENTRE, place=city))
        _child(root, name=CENTRE_OFFICE_NAME, kind=OrgNode.Kind.CENTRE_OFFICE)
        sub_centres = {name: _child(root, name=name, kind=OrgNode.Kind.SUB_CENTRE) for name in SUB_CENTRE_NAMES}

        township_count = village_count = station_count = 0
        for row in rows:
            if row["kind"] == "city":
                continue
            township, _ = Place.objects.update_or_create(
                code=row["code"],
                defaults={
                    "name": row["name"],
                    "kind": Place.Kind.TOWNSHIP,
                    "parent": city,
                    "latitude": Decimal(row["lat"]),
                    "longitude": Decimal(row["lng"]),
                    "coordinates_are_estimate": row["coords_are"] != "published",
                },
            )
            township_count += 1
            office = _child(
                root, name=f"{row['name']}新时代文明实践所", kind=OrgNode.Kind.TOWNSHIP_OFFICE, place=township
            )
            names = [n.strip() for n in row["villages_and_communities"].split(";") if n.strip()]
            for name in names:
                village, _ = Place.objects.get_or_create(
                    parent=township, name=name, defaults={"kind": Place.Kind.VILLAGE}
                )
                village_count += 1
                _child(office, name=f"{name}新时代文明实践站", kind=OrgNode.Kind.VILLAGE_STATION, place=village)
                station_count += 1

        for order, item in enumerate(categories):
            category, _ = ServiceCategory.objects.update_or_create(
                code=item["code"],
                defaults={
                    "name": item["name"],
                    "name_en": item.get("name_en", ""),
                    "description": item.get("description", ""),
                    "sort_order": order,
                },
            )
            # A sub-centre an operator assigned in the admin stays; the file only fills a gap.
            if category.sub_centre_id is None and item.get("sub_centre"):
                category.sub_centre = sub_centres[item["sub_centre"]]
                category.save(update_fields=["sub_centre"])
    return LoadResult(
        townships=township_count, villages=village_count, stations=station_count, categories=len(categories)
    )
