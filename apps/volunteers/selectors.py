from django.db.models import QuerySet

from apps.accounts.models import User
from apps.organisation.models import OrgNode

from .models import VolunteerProfile


def volunteers_visible_to(*, user: User) -> QuerySet[VolunteerProfile]:
    """Volunteers a staff member may see and dispatch: the whole city for the centre, the
    township for a township office, the village for a village station. Others see none."""
    qs = VolunteerProfile.objects.select_related("user", "home_township", "home_village").prefetch_related("categories")
    if user.sees_whole_city:
        return qs
    node = user.staff_node
    if node is None:
        return qs.none()
    if node.kind == OrgNode.Kind.TOWNSHIP_OFFICE:
        return qs.filter(home_township_id=node.place_id)
    if node.kind == OrgNode.Kind.VILLAGE_STATION:
        return qs.filter(home_village_id=node.place_id)
    # Sub-centres and the centre office work city-wide.
    return qs


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
