"""The one answer to "what part of the city does this user cover as staff".

Every scoped read (requests, volunteers, offers, and who is told about a request) derives
from :func:`area_of`, so no two parts of the platform disagree about what a sub-centre or a
township office sees:

========================  ==========================================================
centre (中心调度员)          the whole city
centre office (中心办公室)   the whole city: it runs the centre's daily work
sub-centre (分中心)          requests and volunteers of the service fields it looks after
                          (``ServiceCategory.sub_centre``), city-wide
township office (实践所)     its township: requests located there, volunteers living there
village station (实践站)     its village or community, likewise
administrator             the whole city
anyone else               nothing (residents and volunteers see their own rows only)
========================  ==========================================================

An area is made of places and fields, not of tree nodes: a request is in an area by where it
is and what it asks for, and so is a volunteer by where they live and what they serve.
"""

from dataclasses import dataclass
from typing import TypeVar

from django.db.models import Model, Q, QuerySet

from apps.organisation.models import OrgNode, ServiceCategory

from .models import User

M = TypeVar("M", bound=Model)


@dataclass(frozen=True)
class Area:
    """A staff member's area. ``whole_city`` wins; otherwise each set field narrows it, and an
    area with nothing set is empty (it covers nothing)."""

    whole_city: bool = False
    township_id: int | None = None
    village_id: int | None = None
    category_ids: frozenset[int] | None = None

    @property
    def is_empty(self) -> bool:
        return not self.whole_city and self.township_id is None and self.village_id is None and not self.category_ids

    def q(self, *, township: str, village: str, category: str) -> Q:
        """The condition "in this area" for rows whose township, village and category are
        reached by the given lookups (e.g. ``home_township`` for a volunteer)."""
        # Never an empty Q(): OR-ed with another condition, Django would drop it.
        if self.whole_city:
            return Q(pk__isnull=False)
        if self.is_empty:
            return Q(pk__in=[])
        condition = Q()
        if self.township_id is not None:
            condition &= Q(**{f"{township}_id": self.township_id})
        if self.village_id is not None:
            condition &= Q(**{f"{village}_id": self.village_id})
        if self.category_ids is not None:
            condition &= Q(**{f"{category}__in": sorted(self.category_ids)})
        return condition

    def filter(
        self, queryset: QuerySet[M], *, township: str, village: str, category: str, category_is_many: bool = False
    ) -> QuerySet[M]:
        """``queryset`` narrowed to the area. ``category_is_many``: the category lookup crosses
        a many-to-many (a volunteer serves several fields), so it is matched in a subquery
        instead of a join that would repeat rows."""
        if self.whole_city:
            return queryset
        if self.is_empty:
            return queryset.none()
        if category_is_many and self.category_ids is not None:
            inner = queryset.model._default_manager.filter(
                self.q(township=township, village=village, category=category)
            )
            return queryset.filter(pk__in=inner.values("pk"))
        return queryset.filter(self.q(township=township, village=village, category=category))

    def covers_place(self, *, township_id: int | None, village_id: int | None) -> bool:
        """Whether a place lies in the area, whatever the field (no query)."""
        if self.whole_city:
            return True
        if self.is_empty:
            return False
        return (self.township_id is None or self.township_id == township_id) and (
            self.village_id is None or self.village_id == village_id
        )

    def covers(self, *, township_id: int | None, village_id: int | None, category_id: int | None) -> bool:
        """Whether one row with these values lies in the area (no query)."""
        return self.covers_place(township_id=township_id, village_id=village_id) and (
            self.whole_city or self.category_ids is None or category_id in self.category_ids
        )


NOTHING = Area()
WHOLE_CITY = Area(whole_city=True)


def area_of_node(node: OrgNode) -> Area:
    """The area of the staff of ``node``."""
    kind = node.kind
    if kind in (OrgNode.Kind.CENTRE, OrgNode.Kind.CENTRE_OFFICE):
        return WHOLE_CITY
    if kind == OrgNode.Kind.SUB_CENTRE:
        return Area(
            category_ids=frozenset(ServiceCategory.objects.filter(sub_centre=node).values_list("id", flat=True))
        )
    if kind == OrgNode.Kind.TOWNSHIP_OFFICE and node.place_id is not None:
        return Area(township_id=node.place_id)
    if kind == OrgNode.Kind.VILLAGE_STATION and node.place_id is not None:
        return Area(village_id=node.place_id)
    return NOTHING


def area_of(user: User) -> Area:
    """What ``user`` covers as staff; :data:`NOTHING` for residents and volunteers.

    Cached on the user object for the request, as the sub-centre's fields cost a query."""
    cached: Area | None = getattr(user, "_area_cache", None)
    if cached is not None:
        return cached
    if not user.is_active or not user.is_org_staff:
        area = NOTHING
    elif user.is_superuser:
        area = WHOLE_CITY
    else:
        assert user.staff_node is not None
        area = area_of_node(user.staff_node)
    user._area_cache = area  # type: ignore[attr-defined]
    return area


def staff_covering(*, township_id: int, village_id: int, category_id: int) -> QuerySet[User]:
    """Staff told about a request located here in this field: the village's station, the
    township's office and the field's sub-centre. The centre and its office, whose area is the
    whole city, follow it on their boards instead of by message."""
    return (
        User.objects.filter(is_active=True)
        .filter(
            Q(staff_node__kind=OrgNode.Kind.VILLAGE_STATION, staff_node__place_id=village_id)
            | Q(staff_node__kind=OrgNode.Kind.TOWNSHIP_OFFICE, staff_node__place_id=township_id)
            | Q(staff_node__kind=OrgNode.Kind.SUB_CENTRE, staff_node__categories__id=category_id)
        )
        .distinct()
    )


def centre_dispatchers() -> QuerySet[User]:
    """Staff of the centre itself, who take escalations for the whole city."""
    return User.objects.filter(is_active=True, staff_node__kind=OrgNode.Kind.CENTRE)
