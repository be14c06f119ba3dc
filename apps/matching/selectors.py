"""Candidates for a request, ranked with their reasons: one selector for pages, API and the queue.

(Placeholder until the ranking lands: the signature is the contract.)"""

from dataclasses import dataclass, field

from django.db.models import QuerySet

from apps.service_requests.models import ServiceRequest
from apps.volunteers.models import ApplicationStatus, VolunteerProfile


@dataclass
class Candidate:
    volunteer: VolunteerProfile
    score: float
    # Translated, short: "同村", "擅长助老", "近30天服务2次", "好评率98%".
    reasons: list[str] = field(default_factory=list)
    distance_km: float | None = None
    components: dict[str, float] = field(default_factory=dict)


def eligible_volunteers(*, request: ServiceRequest, extra_km: int = 0) -> QuerySet[VolunteerProfile]:
    """Every volunteer passing the hard filters for ``request`` (unordered)."""
    return VolunteerProfile.objects.filter(
        status=ApplicationStatus.APPROVED, is_verified=True, is_active=True, user__is_active=True
    ).exclude(user_id=request.requester_id)


def rank_candidates(
    *,
    request: ServiceRequest,
    limit: int = 20,
    offset: int = 0,
    extra_km: int = 0,
    search: str = "",
    volunteer_ids: list[int] | None = None,
) -> list[Candidate]:
    """The best ``limit`` candidates after ``offset``, best first, each with its reasons.
    ``extra_km`` widens the reach; ``search`` matches number or name; ``volunteer_ids`` restricts
    the ranking to these volunteers (a team's members, one volunteer's eligibility)."""
    qs = eligible_volunteers(request=request, extra_km=extra_km).select_related("user")
    if volunteer_ids is not None:
        qs = qs.filter(id__in=volunteer_ids)
    return [Candidate(volunteer=v, score=0.0) for v in qs.order_by("id")[offset : offset + limit]]
