"""Dispatch and the volunteer's side of a task: offers, 接单 first come first served, decline,
expiry, check-in/out with hours, withdrawal (Art. 22), cancellation and who sees contact data."""

import itertools
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.core.errors import Conflict, DomainError
from apps.dispatch.models import Offer, OfferEvent, OfferStatus, round_to_half_hour
from apps.dispatch.selectors import volunteer_sees_contact
from apps.dispatch.services import (
    dispatch_directed,
    offer_accept,
    offer_check_in,
    offer_complete,
    offer_decline,
    offer_release,
    offers_expire,
    request_cancel,
)
from apps.notifications.messages import render
from apps.notifications.models import Notification
from apps.service_requests.models import RequestEvent, ServiceRequest, Status
from apps.service_requests.services import request_review
from tests.service_requests.factories import event_rows, submit_request
from tests.volunteers.factories import make_volunteer


@pytest.fixture
def third_volunteer(org):
    return make_volunteer(
        township=org["township_a"], village=org["village_a1"], categories=[org["category"]], name="陈志强"
    )


def _queued(cast, org, *, needed: int = 1, urgency: str = "normal") -> ServiceRequest:
    request = submit_request(
        requester=cast.resident,
        category=org["category"],
        village=org["village_a1"],
        volunteers_needed=needed,
        urgency=urgency,
    )
    request_review(request=request, actor=cast.staff_a, accept=True)
    return request


def _offers(request: ServiceRequest, volunteers, actor) -> dict[int, Offer]:
    """Dispatch and return the offers keyed by volunteer id."""
    return {o.volunteer_id: o for o in dispatch_directed(request=request, actor=actor, volunteers=list(volunteers))}


def _status(request: ServiceRequest) -> str:
    return ServiceRequest.objects.get(id=request.id).status


def _offer_events(offer: Offer) -> list[tuple[str, str, int | None, str]]:
    return [(e.from_status, e.to_status, e.actor_id, e.display_reason) for e in OfferEvent.objects.filter(offer=offer)]


def _offer_statuses(request: ServiceRequest) -> dict[int, str]:
    return dict(Offer.objects.filter(request=request).values_list("volunteer_id", "status"))


def _events(request: ServiceRequest) -> list[tuple[str, str]]:
    return list(RequestEvent.objects.filter(request=request).values_list("from_status", "to_status"))


def _kinds(user) -> list[str]:
    return sorted(Notification.objects.filter(recipient=user).values_list("kind", flat=True))


# --- 派单 ---------------------------------------------------------------------------------------


def test_dispatch_creates_one_offer_per_volunteer_and_marks_the_request_offered(cast, org):
    request = _queued(cast, org)

    offers = _offers(request, [cast.volunteer, cast.other_volunteer], cast.staff_a)

    assert set(offers) == {cast.volunteer.id, cast.other_volunteer.id}
    assert {o.status for o in offers.values()} == {OfferStatus.OFFERED}
    assert {o.offered_by_id for o in offers.values()} == {cast.staff_a.id}
    assert request.status == Status.OFFERED
    assert _status(request) == Status.OFFERED
    assert [(to, actor, reason) for _from, to, actor, reason in event_rows(request)][-1] == (
        Status.OFFERED,
        cast.staff_a.id,
        "已向2名志愿者发出服务邀请",
    )
    assert _kinds(cast.volunteer.user) == ["offered"]
    assert _kinds(cast.other_volunteer.user) == ["offered"]


@pytest.mark.parametrize(("urgency", "minutes"), [("normal", 95), ("urgent", 25), ("critical", 7)])
def test_offer_expiry_follows_the_setting_for_the_request_urgency(cast, org, settings, urgency, minutes):
    settings.OFFER_EXPIRY_MINUTES = {"normal": 95, "urgent": 25, "critical": 7}
    request = _queued(cast, org, urgency=urgency)

    before = timezone.now()
    offer = _offers(request, [cast.volunteer], cast.staff_a)[cast.volunteer.id]
    after = timezone.now()

    stored = Offer.objects.get(id=offer.id).expires_at
    assert before + timedelta(minutes=minutes) <= stored <= after + timedelta(minutes=minutes)


def test_dispatcher_may_set_a_shorter_expiry_than_the_default(cast, org):
    request = _queued(cast, org)

    before = timezone.now()
    offer = dispatch_directed(request=request, actor=cast.staff_a, volunteers=[cast.volunteer], expires_in_minutes=3)[0]
    after = timezone.now()

    assert before + timedelta(minutes=3) <= Offer.objects.get(id=offer.id).expires_at <= after + timedelta(minutes=3)


def _assert_nothing_dispatched(request: ServiceRequest, status: str) -> None:
    assert Offer.objects.filter(request=request).count() == 0
    assert _status(request) == status
    assert Notification.objects.filter(kind="offered").count() == 0


def test_dispatch_to_an_unverified_volunteer_is_refused(cast, org):
    request = _queued(cast, org)
    unverified = make_volunteer(township=org["township_a"], categories=[org["category"]], verified=False)

    with pytest.raises(DomainError) as excinfo:
        dispatch_directed(request=request, actor=cast.staff_a, volunteers=[cast.volunteer, unverified])

    assert excinfo.value.code == "volunteer_unavailable"
    assert unverified.user.masked_name in str(excinfo.value.message)
    assert cast.volunteer.volunteer_number not in str(excinfo.value.message)
    _assert_nothing_dispatched(request, Status.QUEUED)


@pytest.mark.parametrize("inactive", ["profile", "user"])
def test_dispatch_to_an_inactive_volunteer_is_refused(cast, org, inactive):
    request = _queued(cast, org)
    target = cast.other_volunteer.user if inactive == "user" else cast.other_volunteer
    target.is_active = False
    target.save()

    with pytest.raises(DomainError) as excinfo:
        dispatch_directed(request=request, actor=cast.staff_a, volunteers=[cast.other_volunteer])

    assert excinfo.value.code == "volunteer_unavailable"
    _assert_nothing_dispatched(request, Status.QUEUED)


def test_dispatch_without_volunteers_is_refused(cast, org):
    request = _queued(cast, org)

    with pytest.raises(DomainError) as excinfo:
        dispatch_directed(request=request, actor=cast.staff_a, volunteers=[])

    assert excinfo.value.code == "no_volunteers"
    _assert_nothing_dispatched(request, Status.QUEUED)


def test_dispatch_to_a_volunteer_already_offered_is_refused_for_the_whole_batch(cast, org):
    request = _queued(cast, org)
    first = _offers(request, [cast.volunteer], cast.staff_a)[cast.volunteer.id]

    with pytest.raises(DomainError) as excinfo:
        dispatch_directed(request=request, actor=cast.staff_a, volunteers=[cast.volunteer, cast.other_volunteer])

    assert excinfo.value.code == "already_offered"
    assert str(excinfo.value.message) == f"已向以下志愿者派过单：{cast.volunteer.volunteer_number}"
    assert list(Offer.objects.filter(request=request).values_list("id", flat=True)) == [first.id]
    assert _kinds(cast.other_volunteer.user) == []
    assert _events(request)[-1] == (Status.QUEUED, Status.OFFERED)


def test_a_volunteer_who_declined_may_be_offered_again(cast, org):
    request = _queued(cast, org)
    first = _offers(request, [cast.volunteer], cast.staff_a)[cast.volunteer.id]
    offer_decline(offer=first, volunteer=cast.volunteer, reason="今天在外地")

    second = _offers(request, [cast.volunteer], cast.staff_a)[cast.volunteer.id]

    assert list(Offer.objects.filter(request=request).order_by("id").values_list("id", "status")) == [
        (first.id, OfferStatus.DECLINED),
        (second.id, OfferStatus.OFFERED),
    ]
    assert _status(request) == Status.OFFERED


@pytest.mark.parametrize(
    "status",
    [
        Status.SUBMITTED,
        Status.REJECTED,
        Status.ACCEPTED,
        Status.IN_SERVICE,
        Status.COMPLETED,
        Status.RATED,
        Status.CLOSED,
        Status.CANCELLED,
    ],
)
def test_dispatch_of_a_request_that_is_not_dispatchable_is_a_conflict(cast, org, status):
    request = submit_request(requester=cast.resident, category=org["category"], village=org["village_a1"])
    ServiceRequest.objects.filter(id=request.id).update(status=status)

    with pytest.raises(Conflict) as excinfo:
        dispatch_directed(request=request, actor=cast.staff_a, volunteers=[cast.volunteer])

    assert excinfo.value.code == "not_dispatchable"
    _assert_nothing_dispatched(request, status)


@pytest.mark.parametrize("status", [Status.QUEUED, Status.OFFERED, Status.ESCALATED])
def test_dispatch_of_a_queued_offered_or_escalated_request_succeeds(cast, org, status):
    request = submit_request(requester=cast.resident, category=org["category"], village=org["village_a1"])
    ServiceRequest.objects.filter(id=request.id).update(status=status)

    offers = _offers(request, [cast.volunteer], cast.staff_a)

    assert list(offers) == [cast.volunteer.id]
    assert _status(request) == Status.OFFERED
    assert _events(request)[-1] == (status, Status.OFFERED)


# --- 接单 -------------------------------------------------------------------------------------


def test_two_of_three_offered_volunteers_win_a_two_volunteer_request_and_the_third_is_told(cast, org, third_volunteer):
    request = _queued(cast, org, needed=2)
    offers = _offers(request, [cast.volunteer, cast.other_volunteer, third_volunteer], cast.staff_a)

    offer_accept(offer=offers[cast.volunteer.id], volunteer=cast.volunteer)
    assert _status(request) == Status.OFFERED
    assert ServiceRequest.objects.get(id=request.id).volunteers_accepted == 1

    offer_accept(offer=offers[cast.other_volunteer.id], volunteer=cast.other_volunteer)
    assert _status(request) == Status.ACCEPTED
    assert ServiceRequest.objects.get(id=request.id).volunteers_accepted == 2

    with pytest.raises(Conflict) as excinfo:
        offer_accept(offer=offers[third_volunteer.id], volunteer=third_volunteer)
    assert excinfo.value.code == "offer_taken"
    assert str(excinfo.value.message) == "手慢了，这个需求已经有志愿者接单了。"

    assert _offer_statuses(request) == {
        cast.volunteer.id: OfferStatus.ACCEPTED,
        cast.other_volunteer.id: OfferStatus.ACCEPTED,
        third_volunteer.id: OfferStatus.WITHDRAWN,
    }
    assert _offer_events(offers[third_volunteer.id]) == [
        ("", OfferStatus.OFFERED, cast.staff_a.id, ""),
        (OfferStatus.OFFERED, OfferStatus.WITHDRAWN, None, "已满员"),
    ]
    assert ServiceRequest.objects.get(id=request.id).volunteers_accepted == 2
    assert _events(request) == [
        ("", Status.SUBMITTED),
        (Status.SUBMITTED, Status.QUEUED),
        (Status.QUEUED, Status.OFFERED),
        (Status.OFFERED, Status.ACCEPTED),
    ]
    assert RequestEvent.objects.get(request=request, to_status=Status.ACCEPTED).actor == cast.other_volunteer.user
    closed = Notification.objects.get(recipient=third_volunteer.user, kind="offer_closed")
    assert (closed.params["reason_code"], closed.link) == ("places_filled_thanks", "/v/tasks/")
    assert render(closed.kind, closed.params, closed.request_id)[1].endswith("已结束：所需志愿者已满员，感谢您的关注。")
    assert _kinds(third_volunteer.user) == ["offer_closed", "offered"]
    # The winners are not told the offer closed.
    assert _kinds(cast.volunteer.user) == ["offered"]
    assert _kinds(cast.other_volunteer.user) == ["offered"]
    assert _kinds(cast.resident) == ["accepted", "accepted", "queued", "received"]


def test_accepting_the_same_offer_twice_succeeds_again_and_counts_once(cast, org):
    request = _queued(cast, org, needed=2)
    offer = _offers(request, [cast.volunteer], cast.staff_a)[cast.volunteer.id]
    offer_accept(offer=offer, volunteer=cast.volunteer)
    events = OfferEvent.objects.count(), RequestEvent.objects.count(), Notification.objects.count()

    again = offer_accept(offer=offer, volunteer=cast.volunteer)

    assert (again.id, again.status) == (offer.id, OfferStatus.ACCEPTED)
    assert (OfferEvent.objects.count(), RequestEvent.objects.count(), Notification.objects.count()) == events
    assert ServiceRequest.objects.get(id=request.id).volunteers_accepted == 1


def test_accepting_an_offer_past_its_expiry_is_refused_even_before_the_sweep(cast, org):
    request = _queued(cast, org)
    offer = _offers(request, [cast.volunteer], cast.staff_a)[cast.volunteer.id]
    Offer.objects.filter(id=offer.id).update(expires_at=timezone.now() - timedelta(seconds=1))

    with pytest.raises(Conflict) as excinfo:
        offer_accept(offer=offer, volunteer=cast.volunteer)

    assert excinfo.value.code == "offer_expired"
    assert Offer.objects.get(id=offer.id).status == OfferStatus.OFFERED
    assert ServiceRequest.objects.get(id=request.id).volunteers_accepted == 0
    assert _status(request) == Status.OFFERED


# --- 婉拒 -------------------------------------------------------------------------------------


def test_declining_while_another_offer_is_live_keeps_the_request_offered(cast, org):
    request = _queued(cast, org)
    offers = _offers(request, [cast.volunteer, cast.other_volunteer], cast.staff_a)

    offer_decline(offer=offers[cast.volunteer.id], volunteer=cast.volunteer, reason="腿脚不便")

    assert _status(request) == Status.OFFERED
    declined = Offer.objects.get(id=offers[cast.volunteer.id].id)
    assert (declined.status, declined.response_note) == (OfferStatus.DECLINED, "腿脚不便")
    assert declined.responded_at is not None
    assert _kinds(cast.staff_a) == ["new_request"]


def test_declining_the_last_live_offer_returns_the_request_to_the_queue(cast, org):
    request = _queued(cast, org)
    offers = _offers(request, [cast.volunteer, cast.other_volunteer], cast.staff_a)
    offer_decline(offer=offers[cast.volunteer.id], volunteer=cast.volunteer)

    offer_decline(offer=offers[cast.other_volunteer.id], volunteer=cast.other_volunteer)

    assert _status(request) == Status.QUEUED
    assert event_rows(request)[-1] == (Status.OFFERED, Status.QUEUED, None, "邀请均已婉拒或过期，退回待派单")
    assert _kinds(cast.staff_a) == ["new_request", "returned_to_queue"]
    assert _kinds(cast.station_staff_a1) == ["new_request", "returned_to_queue"]


def test_declining_when_the_only_other_offer_is_past_expiry_returns_the_request_to_the_queue(cast, org):
    request = _queued(cast, org)
    offers = _offers(request, [cast.volunteer, cast.other_volunteer], cast.staff_a)
    Offer.objects.filter(id=offers[cast.other_volunteer.id].id).update(expires_at=timezone.now() - timedelta(minutes=1))

    offer_decline(offer=offers[cast.volunteer.id], volunteer=cast.volunteer)

    assert _status(request) == Status.QUEUED


def test_declining_an_answered_offer_is_a_conflict(cast, org):
    request = _queued(cast, org)
    offer = _offers(request, [cast.volunteer], cast.staff_a)[cast.volunteer.id]
    offer_accept(offer=offer, volunteer=cast.volunteer)

    with pytest.raises(Conflict) as excinfo:
        offer_decline(offer=offer, volunteer=cast.volunteer)

    assert excinfo.value.code == "already_accepted"
    assert Offer.objects.get(id=offer.id).status == OfferStatus.ACCEPTED
    assert _status(request) == Status.ACCEPTED


# --- expiry sweep -------------------------------------------------------------------------------


def _age(offer: Offer, *, minutes: int) -> None:
    Offer.objects.filter(id=offer.id).update(expires_at=timezone.now() - timedelta(minutes=minutes))


def test_sweep_expires_only_offers_past_their_expiry(cast, org, third_volunteer):
    overdue = _queued(cast, org)
    overdue_offers = _offers(overdue, [cast.volunteer, cast.other_volunteer], cast.staff_a)
    fresh = _queued(cast, org)
    fresh_offers = _offers(fresh, [third_volunteer], cast.staff_a)
    for offer in overdue_offers.values():
        _age(offer, minutes=1)

    assert offers_expire() == 2

    assert _offer_statuses(overdue) == {
        cast.volunteer.id: OfferStatus.EXPIRED,
        cast.other_volunteer.id: OfferStatus.EXPIRED,
    }
    assert _offer_statuses(fresh) == {third_volunteer.id: OfferStatus.OFFERED}
    assert _status(overdue) == Status.QUEUED
    assert _status(fresh) == Status.OFFERED
    assert Offer.objects.get(id=fresh_offers[third_volunteer.id].id).status == OfferStatus.OFFERED


def test_sweep_run_twice_changes_nothing_the_second_time(cast, org):
    request = _queued(cast, org)
    offer = _offers(request, [cast.volunteer], cast.staff_a)[cast.volunteer.id]
    _age(offer, minutes=5)

    assert offers_expire() == 1
    events_after_first = _events(request)
    notifications_after_first = Notification.objects.count()

    assert offers_expire() == 0

    assert _events(request) == events_after_first
    assert events_after_first[-1] == (Status.OFFERED, Status.QUEUED)
    assert Notification.objects.count() == notifications_after_first
    assert _status(request) == Status.QUEUED


def test_sweep_keeps_the_request_offered_while_a_live_offer_remains(cast, org):
    request = _queued(cast, org)
    offers = _offers(request, [cast.volunteer, cast.other_volunteer], cast.staff_a)
    _age(offers[cast.volunteer.id], minutes=1)

    assert offers_expire() == 1

    assert _offer_statuses(request) == {
        cast.volunteer.id: OfferStatus.EXPIRED,
        cast.other_volunteer.id: OfferStatus.OFFERED,
    }
    assert _status(request) == Status.OFFERED
    assert _events(request)[-1] == (Status.QUEUED, Status.OFFERED)


def test_sweep_uses_the_time_it_is_given(cast, org):
    request = _queued(cast, org)
    offer = _offers(request, [cast.volunteer], cast.staff_a)[cast.volunteer.id]
    expires_at = Offer.objects.get(id=offer.id).expires_at

    assert offers_expire(now=expires_at - timedelta(seconds=1)) == 0
    assert offers_expire(now=expires_at) == 1
    assert Offer.objects.get(id=offer.id).status == OfferStatus.EXPIRED


def test_partly_staffed_request_keeps_its_volunteer_and_goes_back_to_the_queue_for_more(cast, org, third_volunteer):
    request = _queued(cast, org, needed=2)
    offers = _offers(request, [cast.volunteer, cast.other_volunteer], cast.staff_a)
    offer_accept(offer=offers[cast.volunteer.id], volunteer=cast.volunteer)
    _age(offers[cast.other_volunteer.id], minutes=1)

    assert offers_expire() == 1

    stored = ServiceRequest.objects.get(id=request.id)
    assert (stored.status, stored.volunteers_accepted) == (Status.QUEUED, 1)
    assert _offer_statuses(request) == {
        cast.volunteer.id: OfferStatus.ACCEPTED,
        cast.other_volunteer.id: OfferStatus.EXPIRED,
    }
    assert stored.can_be_dispatched is True

    # More dispatch fills the second place.
    more = _offers(stored, [third_volunteer], cast.staff_a)
    offer_accept(offer=more[third_volunteer.id], volunteer=third_volunteer)

    stored = ServiceRequest.objects.get(id=request.id)
    assert (stored.status, stored.volunteers_accepted) == (Status.ACCEPTED, 2)
    assert _events(request)[2:] == [
        (Status.QUEUED, Status.OFFERED),
        (Status.OFFERED, Status.QUEUED),
        (Status.QUEUED, Status.OFFERED),
        (Status.OFFERED, Status.ACCEPTED),
    ]


# --- 服务: check-in and check-out ----------------------------------------------------------------


def _accepted(cast, org, *volunteers, needed: int | None = None) -> tuple[ServiceRequest, dict[int, Offer]]:
    request = _queued(cast, org, needed=needed or len(volunteers))
    offers = _offers(request, volunteers, cast.staff_a)
    for volunteer in volunteers:
        offer_accept(offer=offers[volunteer.id], volunteer=volunteer)
    return request, offers


def test_check_in_before_the_request_is_fully_staffed_is_refused(cast, org):
    request, offers = _accepted(cast, org, cast.volunteer, needed=2)

    with pytest.raises(Conflict) as excinfo:
        offer_check_in(offer=offers[cast.volunteer.id], volunteer=cast.volunteer)

    assert excinfo.value.code == "not_ready"
    stored = Offer.objects.get(id=offers[cast.volunteer.id].id)
    assert (stored.status, stored.checked_in_at) == (OfferStatus.ACCEPTED, None)
    assert _status(request) == Status.OFFERED


def test_first_check_in_starts_the_service_and_the_second_joins_it(cast, org):
    request, offers = _accepted(cast, org, cast.volunteer, cast.other_volunteer)

    before = timezone.now()
    offer_check_in(offer=offers[cast.volunteer.id], volunteer=cast.volunteer)
    assert _status(request) == Status.IN_SERVICE
    offer_check_in(offer=offers[cast.other_volunteer.id], volunteer=cast.other_volunteer)

    assert _status(request) == Status.IN_SERVICE
    assert _offer_statuses(request) == {
        cast.volunteer.id: OfferStatus.IN_SERVICE,
        cast.other_volunteer.id: OfferStatus.IN_SERVICE,
    }
    assert all(o.checked_in_at is not None and o.checked_in_at >= before for o in Offer.objects.filter(request=request))
    assert [e for e in _events(request) if e[1] == Status.IN_SERVICE] == [(Status.ACCEPTED, Status.IN_SERVICE)]
    assert RequestEvent.objects.get(request=request, to_status=Status.IN_SERVICE).actor == cast.volunteer.user
    assert _kinds(cast.resident).count("in_service") == 1


def test_checking_in_twice_succeeds_again_and_keeps_the_first_check_in_time(cast, org):
    _request, offers = _accepted(cast, org, cast.volunteer)
    offer_check_in(offer=offers[cast.volunteer.id], volunteer=cast.volunteer)
    first_check_in = Offer.objects.get(id=offers[cast.volunteer.id].id).checked_in_at
    events = OfferEvent.objects.count(), RequestEvent.objects.count(), Notification.objects.count()

    again = offer_check_in(offer=offers[cast.volunteer.id], volunteer=cast.volunteer)

    assert again.status == OfferStatus.IN_SERVICE
    assert Offer.objects.get(id=offers[cast.volunteer.id].id).checked_in_at == first_check_in
    assert (OfferEvent.objects.count(), RequestEvent.objects.count(), Notification.objects.count()) == events


@pytest.mark.parametrize(
    ("duration", "hours"),
    [
        (timedelta(0), Decimal("0")),
        (timedelta(minutes=14), Decimal("0")),
        (timedelta(minutes=14, seconds=59), Decimal("0")),
        (timedelta(minutes=15), Decimal("0.5")),
        (timedelta(minutes=44), Decimal("0.5")),
        (timedelta(minutes=45), Decimal("1.0")),
        (timedelta(hours=2, minutes=10), Decimal("2.0")),
        (timedelta(hours=2, minutes=15), Decimal("2.5")),
    ],
)
def test_round_to_half_hour_rounds_half_up_in_half_hour_steps(duration, hours) -> None:
    assert round_to_half_hour(duration.total_seconds()) == hours


def test_complete_before_check_in_is_refused(cast, org):
    request, offers = _accepted(cast, org, cast.volunteer)

    with pytest.raises(Conflict) as excinfo:
        offer_complete(offer=offers[cast.volunteer.id], volunteer=cast.volunteer, report="已完成")

    assert excinfo.value.code == "not_checked_in"
    assert Offer.objects.get(id=offers[cast.volunteer.id].id).status == OfferStatus.ACCEPTED
    assert _status(request) == Status.ACCEPTED


@pytest.mark.parametrize(
    ("served", "hours"),
    [
        (timedelta(minutes=44), Decimal("0.5")),
        (timedelta(hours=2, minutes=10), Decimal("2.0")),
        (timedelta(hours=2, minutes=15, seconds=5), Decimal("2.5")),
    ],
)
def test_complete_records_hours_from_check_in_to_check_out(cast, org, served, hours):
    request, offers = _accepted(cast, org, cast.volunteer)
    offer = offers[cast.volunteer.id]
    offer_check_in(offer=offer, volunteer=cast.volunteer)
    Offer.objects.filter(id=offer.id).update(checked_in_at=timezone.now() - served)

    offer_complete(offer=offer, volunteer=cast.volunteer, report="已更换阀芯")

    stored = Offer.objects.get(id=offer.id)
    assert stored.status == OfferStatus.COMPLETED
    assert stored.hours == hours
    assert stored.report == "已更换阀芯"
    assert stored.checked_out_at is not None
    assert stored.checked_in_at is not None
    assert stored.checked_out_at - stored.checked_in_at >= served
    assert _status(request) == Status.COMPLETED


def test_request_completes_only_when_every_holder_has_checked_out(cast, org):
    request, offers = _accepted(cast, org, cast.volunteer, cast.other_volunteer)
    first, second = offers[cast.volunteer.id], offers[cast.other_volunteer.id]
    offer_check_in(offer=first, volunteer=cast.volunteer)

    offer_complete(offer=first, volunteer=cast.volunteer)
    # The second volunteer still holds a place without having checked in.
    assert _status(request) == Status.IN_SERVICE
    assert _kinds(cast.resident).count("please_rate") == 0

    offer_check_in(offer=second, volunteer=cast.other_volunteer)
    assert _status(request) == Status.IN_SERVICE

    offer_complete(offer=second, volunteer=cast.other_volunteer)

    assert _status(request) == Status.COMPLETED
    assert event_rows(request)[-1] == (
        Status.IN_SERVICE,
        Status.COMPLETED,
        cast.other_volunteer.user.id,
        "志愿者已全部完成服务",
    )
    assert _kinds(cast.resident).count("please_rate") == 1
    assert _kinds(cast.staff_a).count("completed") == 1


# --- 无法前往 (Art. 22) ----------------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["", "  "])
def test_release_without_a_reason_is_refused(cast, org, reason):
    request, offers = _accepted(cast, org, cast.volunteer)

    with pytest.raises(DomainError) as excinfo:
        offer_release(offer=offers[cast.volunteer.id], volunteer=cast.volunteer, reason=reason)

    assert excinfo.value.code == "reason_required"
    assert Offer.objects.get(id=offers[cast.volunteer.id].id).status == OfferStatus.ACCEPTED
    stored = ServiceRequest.objects.get(id=request.id)
    assert (stored.status, stored.volunteers_accepted) == (Status.ACCEPTED, 1)


def test_release_of_a_fully_staffed_request_frees_the_place_and_returns_it_to_the_queue(cast, org):
    request, offers = _accepted(cast, org, cast.volunteer, cast.other_volunteer)

    offer_release(offer=offers[cast.other_volunteer.id], volunteer=cast.other_volunteer, reason="家中老人突发疾病")

    released = Offer.objects.get(id=offers[cast.other_volunteer.id].id)
    assert (released.status, released.response_note) == (OfferStatus.RELEASED, "家中老人突发疾病")
    stored = ServiceRequest.objects.get(id=request.id)
    assert (stored.status, stored.volunteers_accepted) == (Status.QUEUED, 1)
    assert event_rows(request)[-1] == (Status.ACCEPTED, Status.QUEUED, cast.other_volunteer.user.id, "家中老人突发疾病")
    notice = Notification.objects.get(recipient=cast.staff_a, kind="volunteer_released")
    assert notice.params == {
        "title": request.title,
        "volunteer": cast.other_volunteer.volunteer_number,
        "reason": "家中老人突发疾病",
    }
    assert _kinds(cast.station_staff_a1).count("volunteer_released") == 1
    assert _kinds(cast.staff_b) == []
    # The freed place can be offered again, even to the same volunteer later on.
    assert stored.can_be_dispatched is True


def test_release_while_other_offers_are_live_keeps_the_request_offered(cast, org, third_volunteer):
    request = _queued(cast, org, needed=2)
    offers = _offers(request, [cast.volunteer, cast.other_volunteer, third_volunteer], cast.staff_a)
    offer_accept(offer=offers[cast.volunteer.id], volunteer=cast.volunteer)
    events_before = _events(request)

    offer_release(offer=offers[cast.volunteer.id], volunteer=cast.volunteer, reason="临时加班")

    stored = ServiceRequest.objects.get(id=request.id)
    assert (stored.status, stored.volunteers_accepted) == (Status.OFFERED, 0)
    assert _events(request) == events_before
    assert _kinds(cast.staff_a).count("volunteer_released") == 1
    # Both places are open again for the two volunteers still holding live offers.
    offer_accept(offer=offers[cast.other_volunteer.id], volunteer=cast.other_volunteer)
    offer_accept(offer=offers[third_volunteer.id], volunteer=third_volunteer)
    assert _status(request) == Status.ACCEPTED


def test_release_of_the_only_holder_with_no_live_offers_returns_a_partly_staffed_request_to_the_queue(cast, org):
    request = _queued(cast, org, needed=2)
    offers = _offers(request, [cast.volunteer, cast.other_volunteer], cast.staff_a)
    offer_accept(offer=offers[cast.volunteer.id], volunteer=cast.volunteer)
    offer_decline(offer=offers[cast.other_volunteer.id], volunteer=cast.other_volunteer)
    assert _status(request) == Status.QUEUED

    offer_release(offer=offers[cast.volunteer.id], volunteer=cast.volunteer, reason="临时加班")

    stored = ServiceRequest.objects.get(id=request.id)
    assert (stored.status, stored.volunteers_accepted) == (Status.QUEUED, 0)


def test_release_after_check_in_is_a_conflict(cast, org):
    request, offers = _accepted(cast, org, cast.volunteer)
    offer_check_in(offer=offers[cast.volunteer.id], volunteer=cast.volunteer)

    with pytest.raises(Conflict) as excinfo:
        offer_release(offer=offers[cast.volunteer.id], volunteer=cast.volunteer, reason="不想去了")

    # Only an "accepted" offer can be released; this one is already in service.
    assert excinfo.value.code == "stale_status"
    stored = ServiceRequest.objects.get(id=request.id)
    assert (stored.status, stored.volunteers_accepted) == (Status.IN_SERVICE, 1)
    assert Notification.objects.filter(kind="volunteer_released").count() == 0


# --- 取消 ---------------------------------------------------------------------------------------


def test_cancel_withdraws_open_offers_and_tells_their_volunteers(cast, org, third_volunteer):
    request = _queued(cast, org, needed=2)
    offers = _offers(request, [cast.volunteer, cast.other_volunteer, third_volunteer], cast.staff_a)
    offer_accept(offer=offers[cast.volunteer.id], volunteer=cast.volunteer)
    offer_decline(offer=offers[third_volunteer.id], volunteer=third_volunteer)

    request_cancel(request=request, actor=cast.resident, reason="问题已自行解决")

    stored = ServiceRequest.objects.get(id=request.id)
    assert (stored.status, stored.status_reason) == (Status.CANCELLED, "问题已自行解决")
    assert _offer_statuses(request) == {
        cast.volunteer.id: OfferStatus.WITHDRAWN,
        cast.other_volunteer.id: OfferStatus.WITHDRAWN,
        third_volunteer.id: OfferStatus.DECLINED,
    }
    assert set(Offer.objects.filter(status=OfferStatus.WITHDRAWN).values_list("response_note", flat=True)) == {
        "问题已自行解决"
    }
    assert {e.display_reason for e in OfferEvent.objects.filter(to_status=OfferStatus.WITHDRAWN)} == {"问题已自行解决"}
    assert event_rows(request)[-1] == (Status.OFFERED, Status.CANCELLED, cast.resident.id, "问题已自行解决")
    assert _kinds(cast.volunteer.user) == ["offer_closed", "offered"]
    assert _kinds(cast.other_volunteer.user) == ["offer_closed", "offered"]
    assert _kinds(third_volunteer.user) == ["offered"]
    assert _kinds(cast.staff_a).count("cancelled") == 1
    # The one who cancelled is not told about it.
    assert "cancelled" not in _kinds(cast.resident)
    with pytest.raises(Conflict) as excinfo:
        offer_accept(offer=offers[cast.other_volunteer.id], volunteer=cast.other_volunteer)
    assert excinfo.value.code == "request_cancelled"


def test_cancel_by_staff_tells_the_resident_and_uses_a_default_reason(cast, org):
    request = _queued(cast, org)

    request_cancel(request=request, actor=cast.staff_a, reason="  ")

    # Staff who give no reason (the API lets them) are named as who cancelled, never the resident.
    assert ServiceRequest.objects.get(id=request.id).display_status_reason == "工作人员取消"
    assert "cancelled" in _kinds(cast.resident)
    assert "cancelled" not in _kinds(cast.staff_a)
    assert _kinds(cast.station_staff_a1).count("cancelled") == 1


@pytest.mark.parametrize("status", [Status.IN_SERVICE, Status.COMPLETED, Status.CLOSED, Status.REJECTED])
def test_cancel_after_service_began_or_ended_is_a_conflict(cast, org, status):
    request = _queued(cast, org)
    ServiceRequest.objects.filter(id=request.id).update(status=status)
    events_before = _events(request)

    with pytest.raises(Conflict) as excinfo:
        request_cancel(request=request, actor=cast.resident, reason="不需要了")

    assert excinfo.value.code == "not_cancellable"
    assert _status(request) == status
    assert _events(request) == events_before


# --- contact data -------------------------------------------------------------------------------

# The only (offer, request) pairs in which a volunteer sees the resident's phone and address: the
# volunteer holds a place and the task is still active — including while a partly staffed request
# waits in the queue (or at the centre) for more volunteers.
SEES_CONTACT = {
    (OfferStatus.ACCEPTED, Status.QUEUED),
    (OfferStatus.ACCEPTED, Status.OFFERED),
    (OfferStatus.ACCEPTED, Status.ACCEPTED),
    (OfferStatus.ACCEPTED, Status.IN_SERVICE),
    (OfferStatus.ACCEPTED, Status.ESCALATED),
    (OfferStatus.ON_THE_WAY, Status.QUEUED),
    (OfferStatus.ON_THE_WAY, Status.OFFERED),
    (OfferStatus.ON_THE_WAY, Status.ACCEPTED),
    (OfferStatus.ON_THE_WAY, Status.IN_SERVICE),
    (OfferStatus.ON_THE_WAY, Status.ESCALATED),
    (OfferStatus.IN_SERVICE, Status.QUEUED),
    (OfferStatus.IN_SERVICE, Status.OFFERED),
    (OfferStatus.IN_SERVICE, Status.ACCEPTED),
    (OfferStatus.IN_SERVICE, Status.IN_SERVICE),
    (OfferStatus.IN_SERVICE, Status.ESCALATED),
}


@pytest.mark.parametrize(("offer_status", "request_status"), list(itertools.product(OfferStatus.values, Status.values)))
def test_volunteer_sees_contact_only_while_holding_a_place_on_an_active_request(offer_status, request_status) -> None:
    offer = Offer(status=offer_status, request=ServiceRequest(status=request_status))

    assert volunteer_sees_contact(offer=offer) is ((offer_status, request_status) in SEES_CONTACT)


def test_volunteer_keeps_seeing_contact_while_a_partly_staffed_request_is_requeued(cast, org):
    request = _queued(cast, org, needed=2)
    offers = _offers(request, [cast.volunteer, cast.other_volunteer], cast.staff_a)
    offer_accept(offer=offers[cast.volunteer.id], volunteer=cast.volunteer)
    assert volunteer_sees_contact(offer=Offer.objects.select_related("request").get(id=offers[cast.volunteer.id].id))

    offer_decline(offer=offers[cast.other_volunteer.id], volunteer=cast.other_volunteer)

    assert _status(request) == Status.QUEUED
    holder = Offer.objects.select_related("request").get(id=offers[cast.volunteer.id].id)
    assert volunteer_sees_contact(offer=holder) is True
    decliner = Offer.objects.select_related("request").get(id=offers[cast.other_volunteer.id].id)
    assert volunteer_sees_contact(offer=decliner) is False
