"""Keeping ``MatchableVolunteer`` rows equal to the profiles they are derived from.

``matchable_refresh`` rewrites the rows of the volunteers named (or of everyone) from their
profiles, categories and home places: a row for each volunteer who may be offered work, none for
anyone else. Services call it in the transaction of every change to a profile; beat calls it for
everyone, for what changes outside those services."""

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db import transaction

from .models import ApplicationStatus, MatchableVolunteer, VolunteerProfile, category_bits, skill_bits

# Profiles per batch in a full refresh.
BATCH = 5000
_FIELDS = (
    "id",
    "user_id",
    "status",
    "is_verified",
    "is_active",
    "birth_date",
    "availability",
    "home_township_id",
    "home_village_id",
    "service_radius_km",
    "skills",
    "home_village__latitude",
    "home_village__longitude",
    "home_township__latitude",
    "home_township__longitude",
)
_COLUMNS = [
    "user",
    "birth_date",
    "availability",
    "home_township",
    "home_village",
    "home_latitude",
    "home_longitude",
    "service_radius_km",
    "skill_bits",
    "category_bits",
]


def _point(row: dict[str, Any]) -> tuple[float | None, float | None]:
    for place in ("home_village", "home_township"):
        lat, lng = row[f"{place}__latitude"], row[f"{place}__longitude"]
        if lat is not None and lng is not None:
            return float(lat), float(lng)
    return None, None


def _matchable(row: dict[str, Any]) -> bool:
    return bool(row["status"] == ApplicationStatus.APPROVED and row["is_verified"] and row["is_active"])


def _write(profile_ids: list[int], rows: list[dict[str, Any]]) -> int:
    """The rows of ``profile_ids`` made equal to ``rows`` (their profiles' values)."""
    through = VolunteerProfile.categories.through
    categories: dict[int, list[int]] = defaultdict(list)
    for profile_id, category_id in through.objects.filter(volunteerprofile_id__in=profile_ids).values_list(
        "volunteerprofile_id", "servicecategory_id"
    ):
        categories[profile_id].append(category_id)
    entries = []
    for row in rows:
        if not _matchable(row):
            continue
        latitude, longitude = _point(row)
        entries.append(
            MatchableVolunteer(
                volunteer_id=row["id"],
                user_id=row["user_id"],
                birth_date=row["birth_date"],
                availability=row["availability"],
                home_township_id=row["home_township_id"],
                home_village_id=row["home_village_id"],
                home_latitude=latitude,
                home_longitude=longitude,
                service_radius_km=row["service_radius_km"],
                skill_bits=skill_bits(row["skills"] or []),
                category_bits=category_bits(categories[row["id"]]),
            )
        )
    keep = [entry.volunteer_id for entry in entries]
    MatchableVolunteer.objects.filter(volunteer_id__in=profile_ids).exclude(volunteer_id__in=keep).delete()
    MatchableVolunteer.objects.bulk_create(
        entries, update_conflicts=True, unique_fields=["volunteer"], update_fields=_COLUMNS, batch_size=1000
    )
    return len(entries)


def matchable_refresh(*, volunteer_ids: Iterable[int] | None = None) -> int:
    """Rewrite the ``MatchableVolunteer`` rows of ``volunteer_ids`` (everyone when None) from
    their profiles; returns how many may now be offered work. Everyone: in batches of ``BATCH``
    profiles, each its own transaction."""
    if volunteer_ids is not None:
        ids = sorted(set(volunteer_ids))
        if not ids:
            return 0
        return _write(ids, list(VolunteerProfile.objects.filter(id__in=ids).values(*_FIELDS)))
    written, after = 0, 0
    while True:
        with transaction.atomic():
            # The batch's profiles locked while their rows are rewritten (``FOR NO KEY UPDATE``:
            # offers may still name them): a change committed meanwhile would otherwise be
            # overwritten by what this read before it; instead it waits, then writes its own row.
            rows = list(
                VolunteerProfile.objects.filter(id__gt=after)
                .order_by("id")
                .select_for_update(no_key=True, of=("self",))
                .values(*_FIELDS)[:BATCH]
            )
            if not rows:
                return written
            written += _write([row["id"] for row in rows], rows)
        after = rows[-1]["id"]
