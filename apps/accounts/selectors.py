from django.db.models import QuerySet

from apps.organisation.models import OrgNode
from apps.organisation.selectors import org_ancestors_and_self

from .models import User


def centre_dispatchers() -> QuerySet[User]:
    """Staff of the centre itself: they see and dispatch the whole city."""
    return User.objects.filter(is_active=True, staff_node__depth=1)


def staff_responsible_for(*, station: OrgNode) -> QuerySet[User]:
    """Staff of the station and of the offices above it, but not the centre's dispatchers,
    who watch the whole city from their dashboard rather than per-request messages."""
    return User.objects.filter(is_active=True, staff_node__in=org_ancestors_and_self(node=station).exclude(depth=1))
