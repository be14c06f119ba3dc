from collections.abc import Iterable

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from apps.accounts.areas import area_of
from apps.accounts.models import User
from apps.core.errors import DomainError, NotFound
from apps.organisation.models import OrgNode, Place

from .models import ApplicationStatus, VolunteerEvent, VolunteerProfile


def volunteers_visible_to(*, user: User) -> QuerySet[VolunteerProfile]:
    """Volunteers a staff member may see and dispatch: those of their area (see ``area_of``) —
    living in their township or village, or serving their sub-centre's fields. Others see none."""
    qs = VolunteerProfile.objects.select_related("user", "home_township", "home_village").prefetch_related("categories")
    return area_of(user).filter(
        qs, township="home_township", village="home_village", category="categories", category_is_many=True
    )


def dispatchable_volunteers(
    *, user: User, category_id: int | None = None, township_id: int | None = None, village_id: int | None = None
) -> QuerySet[VolunteerProfile]:
    qs = volunteers_visible_to(user=user).filter(
        status=ApplicationStatus.APPROVED, is_verified=True, is_active=True, user__is_active=True
    )
    if category_id is not None:
        qs = qs.filter(categories__id=category_id)
    if township_id is not None:
        qs = qs.filter(home_township_id=township_id)
    if village_id is not None:
        qs = qs.filter(home_village_id=village_id)
    return qs.order_by("volunteer_number")


def volunteers_chosen_for_dispatch(*, user: User, volunteer_ids: Iterable[int]) -> list[VolunteerProfile]:
    """The volunteers a staff member picked to dispatch to, by id, from those they may see.
    Whether each may take an offer now (verified, active) is dispatch's rule, checked there.
    Raises DomainError ``unknown_volunteer`` naming every id outside the user's area."""
    wanted = sorted(set(volunteer_ids))
    found = list(volunteers_visible_to(user=user).filter(id__in=wanted).order_by("volunteer_number"))
    missing = sorted(set(wanted) - {v.id for v in found})
    if missing:
        raise DomainError(
            _("以下志愿者不存在或不在您的服务范围内：%(ids)s") % {"ids": ", ".join(map(str, missing))},
            code="unknown_volunteer",
        )
    return found


# --- Registration review (实名核验) -----------------------------------------------------------


def applications_visible_to(*, user: User) -> QuerySet[VolunteerProfile]:
    """Registrations a staff member reviews and may open: those whose home village lies in
    their area by place (see ``area_of``): the village's station, its township's office, the
    centre and its office, administrators. A sub-centre's area is a set of service fields, not
    places, so it reviews none; residents and volunteers see none."""
    area = area_of(user)
    qs = VolunteerProfile.objects.select_related("user", "home_township", "home_village")
    if area.whole_city:
        return qs
    if area.category_ids is not None or area.is_empty:
        return qs.none()
    return area.filter(qs, township="home_township", village="home_village", category="categories")


def application_for_staff(*, user: User, profile_id: int) -> VolunteerProfile:
    """One registration of the staff member's area, or NotFound (404) for any other."""
    profile = applications_visible_to(user=user).prefetch_related("categories").filter(id=profile_id).first()
    if profile is None:
        raise NotFound()
    return profile


def application_of(*, user: User) -> VolunteerProfile | None:
    """The user's own registration, whatever its status."""
    return (
        VolunteerProfile.objects.select_related("user", "home_township", "home_village")
        .prefetch_related("categories")
        .filter(user_id=user.id)
        .first()
    )


def application_reviewer_ids(*, village: Place) -> list[int]:
    """The staff told about a new registration in ``village``: its station and its township's
    office. The centre and its office, whose area is the whole city, see it in their queue."""
    return list(
        User.objects.filter(is_active=True)
        .filter(
            Q(staff_node__kind=OrgNode.Kind.VILLAGE_STATION, staff_node__place_id=village.id)
            | Q(staff_node__kind=OrgNode.Kind.TOWNSHIP_OFFICE, staff_node__place_id=village.parent_id)
        )
        .order_by("id")
        .values_list("id", flat=True)
    )


def application_events(*, profile: VolunteerProfile) -> QuerySet[VolunteerEvent]:
    return VolunteerEvent.objects.filter(volunteer=profile).select_related("actor").order_by("at", "id")
