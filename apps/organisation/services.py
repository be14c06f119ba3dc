"""Loading of places, the practice network and service categories."""

import csv
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.db import transaction

from .hotlines import normalize_hotline
from .models import OrgNode, Place, ServiceCategory

DATA_DIR = Path(__file__).resolve().parent / "data"
DIVISIONS_CSV = DATA_DIR / "zhuozhou_divisions.csv"
# Every village and community of the city: the 2023 statistical division codes (see data/README.md).
VILLAGES_CSV = DATA_DIR / "zhuozhou_villages_nbs2023.csv"
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


def _coordinates(place: Place, row: dict[str, str], *, created: bool) -> None:
    """The file's point, unless an operator has set the place's own (it is no longer marked as
    an estimate): a new place, or one still on an estimate, takes it; a corrected file marked
    ``published`` thus replaces the estimates, and never what an operator entered."""
    if created or place.coordinates_are_estimate:
        place.latitude = Decimal(row["lat"])
        place.longitude = Decimal(row["lng"])
        place.coordinates_are_estimate = row["coords_are"] != "published"
        place.save(update_fields=["latitude", "longitude", "coordinates_are_estimate"])


def _place(*, code: str, name: str, kind: str, parent: Place | None) -> tuple[Place, bool]:
    """The place with this division code, created or renamed as the file says. A place loaded
    before codes were known (matched by its parent and name) gets its code and keeps its id, and
    with it its station and everything that refers to it."""
    place = Place.objects.filter(code=code).first()
    if place is None and parent is not None:
        place = Place.objects.filter(parent=parent, name=name, kind=kind, code__isnull=True).first()
    if place is None:
        return Place.objects.create(code=code, name=name, kind=kind, parent=parent), True
    wanted = {"code": code, "name": name, "kind": kind, "parent_id": parent.id if parent is not None else None}
    if any(getattr(place, field) != value for field, value in wanted.items()):
        for field, value in wanted.items():
            setattr(place, field, value)
        place.save(update_fields=["code", "name", "kind", "parent"])
    return place, False


def load_reference_data(
    *,
    csv_path: Path = DIVISIONS_CSV,
    villages_path: Path = VILLAGES_CSV,
    categories_path: Path = CATEGORIES_JSON,
    centre_hotline: str = "",
) -> LoadResult:
    """Create or update places, the organisation tree and categories. Idempotent.

    Townships come from ``csv_path``; villages and communities, one station each, from
    ``villages_path``. Coordinates: see :func:`_coordinates`. ``centre_hotline`` (the bundled
    data knows no real number) becomes the centre's 服务热线 when it has none yet: a number an
    operator entered in the admin stays. Raises ``ValidationError`` for a malformed number,
    before anything is written."""
    hotline = normalize_hotline(centre_hotline)
    with csv_path.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    with villages_path.open(encoding="utf-8") as fh:
        village_rows = list(csv.DictReader(fh))
    categories = json.loads(categories_path.read_text(encoding="utf-8"))

    with transaction.atomic():
        city_row = next(r for r in rows if r["kind"] == "city")
        city, created = _place(code=city_row["code"], name=city_row["name"], kind=Place.Kind.CITY, parent=None)
        _coordinates(city, city_row, created=created)
        root = OrgNode.objects.get_root_nodes().filter(kind=OrgNode.Kind.CENTRE).first()
        if root is None:
            root = OrgNode.objects.add_root(dict(name=CENTRE_NAME, kind=OrgNode.Kind.CENTRE, place=city))
        if hotline and not root.hotline:
            root.hotline = hotline
            root.save(update_fields=["hotline"])
        _child(root, name=CENTRE_OFFICE_NAME, kind=OrgNode.Kind.CENTRE_OFFICE)
        sub_centres = {name: _child(root, name=name, kind=OrgNode.Kind.SUB_CENTRE) for name in SUB_CENTRE_NAMES}

        townships: dict[str, tuple[Place, OrgNode]] = {}
        for row in rows:
            if row["kind"] == "city":
                continue
            township, created = _place(code=row["code"], name=row["name"], kind=Place.Kind.TOWNSHIP, parent=city)
            _coordinates(township, row, created=created)
            office = _child(
                root, name=f"{row['name']}新时代文明实践所", kind=OrgNode.Kind.TOWNSHIP_OFFICE, place=township
            )
            townships[row["code"]] = (township, office)

        for row in village_rows:
            township, office = townships[row["township_code"]]
            # Villages keep no point of their own until an operator sets one: their township's stands in.
            village, _ = _place(code=row["code"], name=row["name"], kind=Place.Kind.VILLAGE, parent=township)
            _child(office, name=f"{row['name']}新时代文明实践站", kind=OrgNode.Kind.VILLAGE_STATION, place=village)

        for order, item in enumerate(categories):
            category, _ = ServiceCategory.objects.update_or_create(
                code=item["code"],
                defaults={
                    "name": item["name"],
                    "name_en": item.get("name_en", ""),
                    "description": item.get("description", ""),
                    "sort_order": order,
                },
                # How the field is dispatched and who may serve it are the operators' to change;
                # the file only sets them when the category is first created.
                create_defaults={
                    "name": item["name"],
                    "name_en": item.get("name_en", ""),
                    "description": item.get("description", ""),
                    "sort_order": order,
                    "default_dispatch_mode": item.get("dispatch_mode", "directed"),
                    "skills": item.get("skills", []),
                    "min_age": item.get("min_age", 14),
                    "night_min_age": item.get("night_min_age", 18),
                },
            )
            # A sub-centre an operator assigned in the admin stays; the file only fills a gap.
            if category.sub_centre_id is None and item.get("sub_centre"):
                category.sub_centre = sub_centres[item["sub_centre"]]
                category.save(update_fields=["sub_centre"])
    return LoadResult(
        townships=len(townships),
        villages=len(village_rows),
        stations=OrgNode.objects.filter(
            kind=OrgNode.Kind.VILLAGE_STATION, place__code__in=[r["code"] for r in village_rows]
        ).count(),
        categories=len(categories),
    )
