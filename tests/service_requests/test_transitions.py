"""The request state machine: the transition table, the conditional UPDATE behind it, the event
log, and the services that drive the first and last steps (submit, review, automatic close)."""

import itertools
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.core.errors import Conflict, DomainError
from apps.core.reasons import Reason
from apps.notifications.messages import render
from apps.notifications.models import Notification
from apps.organisation.models import Place
from apps.ratings.models import Rating
from apps.service_requests.models import ALLOWED_TRANSITIONS, RequestEvent, ServiceRequest, Status
from apps.service_requests.selectors import request_events, request_for_requester
from apps.service_requests.services import (
    request_review,
    requests_close_unrated,
    transition,
)
from tests.accounts.factories import make_user
from tests.service_requests.factories import event_rows, submit_request

S = Status

# The table as the product defines it, written out so that a change to the code's table is a
# deliberate change to this one too.
EXPECTED_TABLE: dict[str, set[str]] = {
    S.SUBMITTED: {S.QUEUED, S.REJECTED, S.CANCELLED},
    S.QUEUED: {S.OFFERED, S.ESCALATED, S.CANCELLED},
    S.OFFERED: {S.OFFERED, S.ACCEPTED, S.QUEUED, S.ESCALATED, S.CANCELLED},
    S.ACCEPTED: {S.IN_SERVICE, S.OFFERED, S.QUEUED, S.CANCELLED},
    S.IN_SERVICE: {S.COMPLETED},
    S.COMPLETED: {S.RATED, S.CLOSED},
    S.RATED: {S.CLOSED},
    S.ESCALATED: {S.OFFERED, S.QUEUED, S.CANCELLED},
    S.REJECTED: set(),
    S.CLOSED: set(),
    S.CANCELLED: set(),
}
ALL_PAIRS = list(itertools.product(S.values, S.values))
ALLOWED_PAIRS = [(a, b) for a, b in ALL_PAIRS if b in EXPECTED_TABLE[a]]
DISALLOWED_PAIRS = [(a, b) for a, b in ALL_PAIRS if b not in EXPECTED_TABLE[a]]


@pytest.fixture
def request_in(org):
    """``request_in(status)`` → a request forced into ``status`` with no events of its own."""
    requester = make_user(name="王秀兰")

    def make(status: str) -> ServiceRequest:
        request = submit_request(requester=requester, category=org["category"], village=org["village_a1"])
        RequestEvent.objects.filter(request=request).delete()
        ServiceRequest.objects.filter(id=request.id).update(status=status)
        return ServiceRequest.objects.get(id=request.id)

    return make


def test_transition_table_is_exactly_the_documented_one() -> None:
    assert {k: set(v) for k, v in ALLOWED_TRANSITIONS.items()} == EXPECTED_TABLE
    assert set(ALLOWED_TRANSITIONS) == set(S.values)
    assert len(ALLOWED_PAIRS) == 22
    assert len(DISALLOWED_PAIRS) == 121 - 22


@pytest.mark.parametrize(("from_status", "to_status"), DISALLOWED_PAIRS)
def test_disallowed_transition_raises_illegal_transition_and_changes_nothing(request_in, from_status, to_status):
    request = request_in(from_status)
    before = ServiceRequest.objects.values().get(id=request.id)
    actor = make_user()

    with pytest.raises(Conflict) as excinfo:
        transition(request=request, to_status=to_status, actor=actor, reason=Reason.typed("不该发生"))

    assert excinfo.value.code == "illegal_transition"
    assert excinfo.value.status_code == 409
    assert ServiceRequest.objects.values().get(id=request.id) == before
    assert request.status == from_status
    assert RequestEvent.objects.filter(request=request).count() == 0


@pytest.mark.parametrize(("from_status", "to_status"), ALLOWED_PAIRS)
def test_allowed_transition_updates_status_and_writes_exactly_one_event(request_in, from_status, to_status):
    request = request_in(from_status)
    actor = make_user(name="钱所长")
    before = timezone.now()

    returned = transition(request=request, to_status=to_status, actor=actor, reason=Reason.typed("按流程处理"))

    assert returned is request
    assert request.status == to_status
    stored = ServiceRequest.objects.get(id=request.id)
    assert stored.status == to_status
    assert stored.status_changed_at >= before
    assert event_rows(request) == [(from_status, to_status, actor.id, "按流程处理")]


def test_transition_with_stale_expected_status_raises_stale_status_and_changes_nothing(request_in):
    request = request_in(S.SUBMITTED)
    # Someone else accepted it into the queue meanwhile; this caller still believes it is submitted.
    ServiceRequest.objects.filter(id=request.id).update(status=S.QUEUED)

    with pytest.raises(Conflict) as excinfo:
        transition(
            request=request, to_status=S.REJECTED, actor=None, reason=Reason.typed("重复"), expected_status=S.SUBMITTED
        )

    assert excinfo.value.code == "stale_status"
    assert ServiceRequest.objects.get(id=request.id).status == S.QUEUED
    assert ServiceRequest.objects.get(id=request.id).status_reason == ""
    assert RequestEvent.objects.filter(request=request).count() == 0


def test_transition_with_stale_in_memory_status_raises_stale_status(request_in):
    request = request_in(S.SUBMITTED)
    ServiceRequest.objects.filter(id=request.id).update(status=S.CANCELLED)

    with pytest.raises(Conflict) as excinfo:
        transition(request=request, to_status=S.QUEUED, actor=None)

    assert excinfo.value.code == "stale_status"
    assert ServiceRequest.objects.get(id=request.id).status == S.CANCELLED
    assert RequestEvent.objects.filter(request=request).count() == 0


def test_transition_applies_extra_field_updates_with_the_status(request_in):
    request = request_in(S.SUBMITTED)

    transition(
        request=request,
        to_status=S.REJECTED,
        actor=None,
        reason=Reason.typed("不在服务范围"),
        **Reason.typed("不在服务范围").as_fields("status_reason"),
    )

    assert request.status_reason == "不在服务范围"
    assert ServiceRequest.objects.get(id=request.id).status_reason == "不在服务范围"


# --- 点单: routing and auto-accept ---------------------------------------------------------


def _kinds(user) -> list[str]:
    return sorted(Notification.objects.filter(recipient=user).values_list("kind", flat=True))


def _events(request: ServiceRequest) -> list[tuple[str, str, int | None]]:
    return list(RequestEvent.objects.filter(request=request).values_list("from_status", "to_status", "actor"))


def test_submit_routes_a_village_with_a_station_to_that_station(cast, org):
    request = submit_request(requester=cast.resident, category=org["category"], village=org["village_a2"])

    assert request.station == org["station_a2"]
    assert request.township == org["township_a"]
    assert request.village == org["village_a2"]
    assert request.status == S.SUBMITTED
    assert _events(request) == [("", S.SUBMITTED, cast.resident.id)]
    assert _kinds(cast.resident) == ["received"]
    assert _kinds(cast.staff_a) == ["new_request"]
    # A2's request is not A1's business; the centre watches its dashboard instead of messages.
    assert _kinds(cast.station_staff_a1) == []
    assert _kinds(cast.staff_b) == []
    assert _kinds(cast.dispatcher) == []


def test_submit_routes_a_village_without_a_station_to_its_township_office(cast, org):
    stationless = Place.objects.create(name="西后村", kind=Place.Kind.VILLAGE, parent=org["township_a"])

    request = submit_request(requester=cast.resident, category=org["category"], village=stationless)

    assert request.station == org["office_a"]
    assert request.township == org["township_a"]
    assert _kinds(cast.staff_a) == ["new_request"]
    assert _kinds(cast.station_staff_a1) == []


def test_submit_refuses_a_township_as_the_village(cast, org):
    with pytest.raises(DomainError) as excinfo:
        submit_request(requester=cast.resident, category=org["category"], village=org["township_a"])

    assert excinfo.value.code == "invalid_village"
    assert ServiceRequest.objects.count() == 0


def test_submit_refuses_an_inactive_category(cast, org):
    org["category"].is_active = False
    org["category"].save()

    with pytest.raises(DomainError) as excinfo:
        submit_request(requester=cast.resident, category=org["category"], village=org["village_a1"])

    assert excinfo.value.code == "inactive_category"
    assert ServiceRequest.objects.count() == 0


def test_submit_in_auto_accept_category_goes_straight_to_queued_with_both_events(cast, org):
    org["category"].auto_accept = True
    org["category"].save()

    request = submit_request(requester=cast.resident, category=org["category"], village=org["village_a1"])

    assert request.status == S.QUEUED
    assert ServiceRequest.objects.get(id=request.id).status == S.QUEUED
    assert event_rows(request) == [
        ("", S.SUBMITTED, cast.resident.id, ""),
        (S.SUBMITTED, S.QUEUED, None, "该类别自动受理"),
    ]
    assert _kinds(cast.resident) == ["queued", "received"]
    # Nothing to review: the station and its township office are told it awaits dispatch.
    assert _kinds(cast.staff_a) == ["new_in_queue"]
    assert _kinds(cast.station_staff_a1) == ["new_in_queue"]
    assert _kinds(cast.staff_b) == []
    assert _kinds(cast.dispatcher) == []


# --- 审核 -----------------------------------------------------------------------------------


def test_review_accept_queues_the_request_and_tells_the_resident(cast, org):
    request = submit_request(requester=cast.resident, category=org["category"], village=org["village_a1"])

    request_review(request=request, actor=cast.staff_a, accept=True)

    assert ServiceRequest.objects.get(id=request.id).status == S.QUEUED
    assert _events(request)[-1] == (S.SUBMITTED, S.QUEUED, cast.staff_a.id)
    assert _kinds(cast.resident) == ["queued", "received"]


@pytest.mark.parametrize("reason", ["", "   "])
def test_review_reject_without_a_reason_is_refused(cast, org, reason):
    request = submit_request(requester=cast.resident, category=org["category"], village=org["village_a1"])

    with pytest.raises(DomainError) as excinfo:
        request_review(request=request, actor=cast.staff_a, accept=False, reason=reason)

    assert excinfo.value.code == "reason_required"
    assert ServiceRequest.objects.get(id=request.id).status == S.SUBMITTED
    assert _events(request) == [("", S.SUBMITTED, cast.resident.id)]
    assert _kinds(cast.resident) == ["received"]


def test_review_reject_records_the_reason_the_resident_sees(cast, org):
    request = submit_request(requester=cast.resident, category=org["category"], village=org["village_a1"])

    request_review(request=request, actor=cast.staff_a, accept=False, reason="超出志愿服务范围，请联系物业")

    seen = request_for_requester(user=cast.resident, request_id=request.id)
    assert seen.status == S.REJECTED
    assert seen.status_reason == "超出志愿服务范围，请联系物业"
    assert [(e.to_status, e.reason) for e in request_events(request=seen)] == [
        (S.SUBMITTED, ""),
        (S.REJECTED, "超出志愿服务范围，请联系物业"),
    ]
    rejection = Notification.objects.get(recipient=cast.resident, kind="rejected")
    assert rejection.params == {"title": request.title, "reason": "超出志愿服务范围，请联系物业"}
    _title, body = render(rejection.kind, rejection.params, rejection.request_id)
    assert body == f"很抱歉，您的需求#{request.id}「{request.title}」未能受理：超出志愿服务范围，请联系物业"


def test_review_of_an_already_reviewed_request_is_a_conflict(cast, org):
    request = submit_request(requester=cast.resident, category=org["category"], village=org["village_a1"])
    request_review(request=request, actor=cast.staff_a, accept=True)
    stale_copy = ServiceRequest.objects.get(id=request.id)
    ServiceRequest.objects.filter(id=request.id).update(status=S.OFFERED)

    with pytest.raises(Conflict) as excinfo:
        request_review(request=stale_copy, actor=cast.station_staff_a1, accept=False, reason="重复审核")

    assert excinfo.value.code == "stale_status"
    assert ServiceRequest.objects.get(id=request.id).status == S.OFFERED
    assert ServiceRequest.objects.get(id=request.id).status_reason == ""


# --- automatic close of unrated requests ---------------------------------------------------


def test_close_unrated_closes_only_completed_requests_older_than_the_setting(cast, org, settings):
    settings.UNRATED_CLOSE_AFTER_DAYS = 7
    now = timezone.now()

    def completed(age: timedelta, status: str = S.COMPLETED) -> ServiceRequest:
        request = submit_request(requester=cast.resident, category=org["category"], village=org["village_a1"])
        ServiceRequest.objects.filter(id=request.id).update(status=status, status_changed_at=now - age)
        return request

    old = completed(timedelta(days=7, minutes=1))
    very_old = completed(timedelta(days=30))
    recent = completed(timedelta(days=6, hours=23))
    old_but_in_service = completed(timedelta(days=30), S.IN_SERVICE)
    old_but_queued = completed(timedelta(days=30), S.QUEUED)

    assert requests_close_unrated(now=now) == 2

    statuses = dict(ServiceRequest.objects.values_list("id", "status"))
    assert statuses == {
        old.id: S.CLOSED,
        very_old.id: S.CLOSED,
        recent.id: S.COMPLETED,
        old_but_in_service.id: S.IN_SERVICE,
        old_but_queued.id: S.QUEUED,
    }
    assert event_rows(old)[-1] == (S.COMPLETED, S.CLOSED, None, "超过7天未评价，自动办结")
    assert Rating.objects.count() == 0
    # A second sweep finds nothing more to do.
    assert requests_close_unrated(now=now) == 0
    assert RequestEvent.objects.filter(to_status=S.CLOSED).count() == 2


def test_close_unrated_honours_a_changed_period(cast, org, settings):
    settings.UNRATED_CLOSE_AFTER_DAYS = 2
    now = timezone.now()
    request = submit_request(requester=cast.resident, category=org["category"], village=org["village_a1"])
    ServiceRequest.objects.filter(id=request.id).update(status=S.COMPLETED, status_changed_at=now - timedelta(days=3))

    assert requests_close_unrated(now=now) == 1
    assert ServiceRequest.objects.get(id=request.id).status == S.CLOSED
    assert Rating.objects.filter(request=request).exists() is False


@pytest.mark.parametrize(
    "window",
    [
        {"window_end": timedelta(minutes=-1)},
        {"window_start": timedelta(days=-2), "window_end": timedelta(hours=-1)},
        {"window_start": timedelta(minutes=-1)},
    ],
    ids=["ended", "whole-window-past", "start-only-past"],
)
def test_submit_refuses_a_desired_window_that_is_already_over(cast, org, window):
    from apps.service_requests.services import RequestInput, request_submit

    now = timezone.now()
    data = RequestInput(
        category=org["category"],
        title="t",
        description="d",
        village=org["village_a1"],
        address="a",
        contact_name="王秀兰",
        contact_phone="13912345678",
        urgency="normal",
        **{key: now + delta for key, delta in window.items()},
    )
    with pytest.raises(DomainError) as excinfo:
        request_submit(data=data, requester=cast.resident, entered_by=cast.resident)
    assert excinfo.value.code == "window_in_past"
    assert ServiceRequest.objects.count() == 0


def test_submit_accepts_a_window_that_has_begun_but_not_ended(cast, org):
    from apps.service_requests.services import RequestInput, request_submit

    now = timezone.now()
    data = RequestInput(
        category=org["category"],
        title="t",
        description="d",
        village=org["village_a1"],
        address="a",
        contact_name="王秀兰",
        contact_phone="13912345678",
        urgency="normal",
        window_start=now - timedelta(hours=1),
        window_end=now + timedelta(hours=1),
    )
    assert request_submit(data=data, requester=cast.resident, entered_by=cast.resident).status == S.SUBMITTED
