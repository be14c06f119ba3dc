from collections.abc import Iterable

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from apps.accounts.areas import area_of
from apps.accounts.models import User
from apps.core.errors import DomainError

from .models import VolunteerProfile


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
    qs = volunteers_visible_to(user=user).filter(is_verified=True, is_active=True, user__is_active=True)
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
