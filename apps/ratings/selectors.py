"""Reads of ratings and follow-up cases (回访), already scoped to the reader.

Who sees which follow-up cases: staff those of the requests in their area (``area_of``, the
rule of ``requests_managed_by``: a station its village's, an office its township's, a
sub-centre its fields', the centre, its office and administrators every case); anyone else
none (a case outside one's area is 404)."""

from datetime import datetime

from django.db.models import Case, Exists, IntegerField, OuterRef, QuerySet, Value, When

from apps.accounts.areas import area_of
from apps.accounts.models import User
from apps.core.errors import NotFound
from apps.service_requests.models import RequestEvent, ServiceRequest, Status
from apps.service_requests.selectors import requests_managed_by

from .models import FollowUp, FollowUpCall, FollowUpStatus, Rating

# What a case's row reads of its request and resident: not the encrypted columns, which would
# each be decrypted for nothing (the phone is shown on the case's own page only).
ROW_DEFERRED = (
    "request__address",
    "request__contact_phone",
    "request__description",
    "request__status_reason",
    "request__status_reason_params",
    "request__requester__phone",
)

# Open cases before closed ones.
OPEN_FIRST = Case(When(status=FollowUpStatus.OPEN, then=Value(0)), default=Value(1), output_field=IntegerField())


def rating_of(*, request: ServiceRequest) -> Rating | None:
    return Rating.objects.filter(request=request).first()


def follow_ups_visible_to(*, user: User) -> QuerySet[FollowUp]:
    """The follow-up cases of the requests in ``user``'s area; none for non-staff."""
    return area_of(user).filter(
        FollowUp.objects.all(), township="request__township", village="request__village", category="request__category"
    )


def as_case_rows(cases: QuerySet[FollowUp]) -> QuerySet[FollowUp]:
    """``cases`` with what a list row shows (the request's ref and title, its score, the station,
    the resident's masked name) in the same query."""
    return cases.select_related("request__rating", "request__requester", "station").defer(*ROW_DEFERRED)


def follow_up_for_staff(*, user: User, case_id: int) -> FollowUp:
    """One case of ``user``'s area, with its request, rating and station; NotFound (404) otherwise."""
    try:
        return (
            follow_ups_visible_to(user=user)
            .select_related("request__rating", "request__requester", "request__category", "station", "closed_by")
            .get(id=case_id)
        )
    except FollowUp.DoesNotExist:
        raise NotFound() from None


def follow_up_calls(*, case: FollowUp) -> QuerySet[FollowUpCall]:
    """The case's calls, oldest first: its history."""
    return FollowUpCall.objects.filter(case=case).select_related("called_by").order_by("called_at", "id")


def requests_for_routine_follow_up(*, user: User, since: datetime) -> QuerySet[ServiceRequest]:
    """Requests of ``user``'s area served to completion since ``since`` (completed, or closed
    after a completion: rated or left unrated) that never had a follow-up case."""
    completed_since = RequestEvent.objects.filter(
        request=OuterRef("pk"), to_status=Status.COMPLETED, created_at__gte=since
    )
    return (
        requests_managed_by(user=user)
        .filter(status__in=[Status.COMPLETED, Status.CLOSED])
        .filter(Exists(completed_since))
        .exclude(Exists(FollowUp.objects.filter(request=OuterRef("pk"))))
    )
