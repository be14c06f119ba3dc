"""出发 (on the way): the volunteer holding a place sets off before arriving, optionally with an
ETA in minutes. Each move, its event and its notifications with their exact text; retries that
change nothing; an ETA revised on the way; arriving, releasing and cancelling from on the way;
and the moves that are refused."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone, translation

from apps.core.errors import Conflict, DomainError
from apps.dispatch.models import Offer, OfferEvent, OfferStatus
from apps.dispatch.selectors import offer_expected_arrival
from apps.dispatch.services import (
    dispatch_directed,
    offer_accept,
    offer_check_in,
    offer_complete,
    offer_decline,
    offer_depart,
    offer_release,
    offers_expire,
    request_cancel,
)
from apps.notifications.messages import render
from apps.notifications.models import Notification
from apps.service_requests.models import RequestEvent, ServiceRequest, Status
from apps.service_requests.services import request_review, staff_ids_for
from tests.service_requests.factories import submit_request

OS = OfferStatus


def _queued(cast, org, *, needed: int = 1) -> ServiceRequest:
    request = submit_request(
        requester=cast.resident, category=org["category"], village=org["village_a1"], volunteers_needed=needed
    )
    request_review(request=request, actor=cast.staff_a, accept=True)
    return request


def _accepted(cast, org, *, needed: int = 1) -> tuple[ServiceRequest, Offer]:
    request = _queued(cast, org, needed=needed)
    (offer,) = dispatch_directed(request=request, actor=cast.staff_a, volunteers=[cast.volunteer])
    offer_accept(offer=offer, volunteer=cast.volunteer)
    return ServiceRequest.objects.get(id=request.id), offer


def _offer(offer: Offer) -> Offer:
    return Offer.objects.get(id=offer.id)


def _offer_events(offer: Offer) -> list[tuple[str, str, int | None, str]]:
    rows = OfferEvent.objects.filter(offer_id=offer.id).order_by("created_at", "id")
    return [(e.from_status, e.to_status, e.actor_id, e.display_reason) for e in rows]


def _request_events(request: ServiceRequest) -> list[tuple[str, str]]:
    return list(RequestEvent.objects.filter(request=request).values_list("from_status", "to_status"))


def _bodies(kind: str) -> dict[int, str]:
    """Each recipient's rendered body of the notifications of ``kind``, in Chinese (one each)."""
    rows = Notification.objects.filter(kind=kind).order_by("id")
    with translation.override("zh-hans"):
        return {n.recipient_id: render(n.kind, n.params, n.request_id)[1] for n in rows}


def _who(cast) -> str:
    return f"张*明（{cast.volunteer.volunteer_number}）"


def _clock(moment) -> str:
    return timezone.localtime(moment).strftime("%H:%M")


def _snapshot(request: ServiceRequest, offer: Offer) -> tuple:
    stored = _offer(offer)
    req = ServiceRequest.objects.get(id=request.id)
    return (
        (stored.status, stored.departed_at, stored.eta_minutes, stored.checked_in_at),
        (req.status, req.volunteers_accepted),
        _offer_events(offer),
        _request_events(request),
        sorted(Notification.objects.values_list("id", flat=True)),
    )


# --- 出发 ---------------------------------------------------------------------------------------


def test_depart_with_an_eta_puts_the_volunteer_on_the_way_and_tells_the_resident_and_staff(cast, org):
    request, offer = _accepted(cast, org)
    before = timezone.now()

    returned = offer_depart(offer=offer, volunteer=cast.volunteer, eta_minutes=15)

    after = timezone.now()
    stored = _offer(offer)
    assert (returned.status, stored.status, stored.eta_minutes) == (OS.ON_THE_WAY, OS.ON_THE_WAY, 15)
    assert stored.departed_at is not None and before <= stored.departed_at <= after
    assert stored.checked_in_at is None  # travel is not service time
    assert offer_expected_arrival(stored) == stored.departed_at + timedelta(minutes=15)
    assert _offer_events(offer)[-1] == (
        OS.ACCEPTED,
        OS.ON_THE_WAY,
        cast.volunteer.user_id,
        "志愿者已出发，预计15分钟到达",
    )
    # The request itself does not move: it is still accepted, with its place held.
    stored_request = ServiceRequest.objects.get(id=request.id)
    assert (stored_request.status, stored_request.volunteers_accepted) == (Status.ACCEPTED, 1)
    assert _request_events(request)[-1] == (Status.OFFERED, Status.ACCEPTED)

    expected = (
        f"志愿者{_who(cast)}已出发前往#{request.id}「{request.title}」，"
        f"预计15分钟后到达（约{_clock(stored.departed_at + timedelta(minutes=15))}）。"
    )
    recipients = {cast.resident.id, *staff_ids_for(request)}
    assert {cast.staff_a.id, cast.station_staff_a1.id} <= recipients
    assert _bodies("on_the_way") == dict.fromkeys(recipients, expected)
    links = dict(Notification.objects.filter(kind="on_the_way").values_list("recipient_id", "link"))
    assert links[cast.resident.id] == f"/r/requests/{request.id}/"
    assert links[cast.staff_a.id] == f"/s/requests/{request.id}/"
    assert not Notification.objects.filter(kind="on_the_way", recipient=cast.volunteer.user).exists()


def test_depart_without_an_eta_says_only_that_the_volunteer_set_off(cast, org):
    request, offer = _accepted(cast, org)

    offer_depart(offer=offer, volunteer=cast.volunteer)

    stored = _offer(offer)
    assert (stored.status, stored.eta_minutes, offer_expected_arrival(stored)) == (OS.ON_THE_WAY, None, None)
    assert stored.departed_at is not None
    assert _offer_events(offer)[-1] == (OS.ACCEPTED, OS.ON_THE_WAY, cast.volunteer.user_id, "志愿者已出发")
    assert set(_bodies("on_the_way").values()) == {f"志愿者{_who(cast)}已出发前往#{request.id}「{request.title}」。"}


@pytest.mark.parametrize("again", [15, None])
def test_depart_again_with_the_same_eta_or_none_changes_nothing(cast, org, again):
    request, offer = _accepted(cast, org)
    offer_depart(offer=offer, volunteer=cast.volunteer, eta_minutes=15)
    before = _snapshot(request, offer)

    returned = offer_depart(offer=offer, volunteer=cast.volunteer, eta_minutes=again)

    assert returned.status == OS.ON_THE_WAY
    assert _snapshot(request, offer) == before


def test_a_new_eta_on_the_way_revises_the_expected_arrival_with_a_small_event_and_a_notice(cast, org):
    request, offer = _accepted(cast, org)
    offer_depart(offer=offer, volunteer=cast.volunteer, eta_minutes=15)
    departed = timezone.now() - timedelta(minutes=10)
    Offer.objects.filter(id=offer.id).update(departed_at=departed)  # set off ten minutes ago
    Notification.objects.all().delete()

    before = timezone.now()
    offer_depart(offer=offer, volunteer=cast.volunteer, eta_minutes=20)
    after = timezone.now()

    stored = _offer(offer)
    # eta_minutes counts from departure: ten minutes travelled plus the twenty announced.
    assert (stored.status, stored.departed_at, stored.eta_minutes) == (OS.ON_THE_WAY, departed, 30)
    expected_at = offer_expected_arrival(stored)
    assert expected_at is not None
    assert before + timedelta(minutes=20) - timedelta(seconds=30) <= expected_at
    assert expected_at <= after + timedelta(minutes=20) + timedelta(seconds=30)
    assert _offer_events(offer)[-2:] == [
        (OS.ACCEPTED, OS.ON_THE_WAY, cast.volunteer.user_id, "志愿者已出发，预计15分钟到达"),
        (OS.ON_THE_WAY, OS.ON_THE_WAY, cast.volunteer.user_id, "志愿者已出发，预计20分钟到达"),
    ]
    bodies = _bodies("on_the_way")
    assert set(bodies) == {cast.resident.id, *staff_ids_for(request)}
    (body,) = set(bodies.values())
    assert body in {
        f"志愿者{_who(cast)}已出发前往#{request.id}「{request.title}」，预计20分钟后到达（约{_clock(moment)}）。"
        for moment in (before + timedelta(minutes=20), after + timedelta(minutes=20))
    }

    # The same revision sent again (a retry) changes nothing more.
    snapshot = _snapshot(request, offer)
    offer_depart(offer=offer, volunteer=cast.volunteer, eta_minutes=20)
    assert _snapshot(request, offer) == snapshot


@pytest.mark.parametrize("minutes", [0, -1, 601, 10**9])
def test_an_eta_out_of_range_is_refused_and_changes_nothing(cast, org, minutes):
    request, offer = _accepted(cast, org)
    before = _snapshot(request, offer)

    with pytest.raises(DomainError) as excinfo:
        offer_depart(offer=offer, volunteer=cast.volunteer, eta_minutes=minutes)

    assert (excinfo.value.code, str(excinfo.value.message)) == ("invalid_eta", "预计到达时间须在1到600分钟之间。")
    assert _snapshot(request, offer) == before


@pytest.mark.parametrize("minutes", [1, 600])
def test_the_eta_range_includes_its_ends(cast, org, minutes):
    _request, offer = _accepted(cast, org)

    offer_depart(offer=offer, volunteer=cast.volunteer, eta_minutes=minutes)

    assert _offer(offer).eta_minutes == minutes


def test_a_volunteer_may_set_off_while_other_places_are_still_open(cast, org):
    request, offer = _accepted(cast, org, needed=2)
    assert request.status == Status.OFFERED

    offer_depart(offer=offer, volunteer=cast.volunteer, eta_minutes=10)

    assert _offer(offer).status == OS.ON_THE_WAY
    # Arriving still waits for every place to fill, as from accepted.
    with pytest.raises(Conflict) as excinfo:
        offer_check_in(offer=offer, volunteer=cast.volunteer)
    assert (excinfo.value.code, str(excinfo.value.message)) == ("not_ready", "请等待所需志愿者全部接单后再签到。")
    assert _offer(offer).status == OS.ON_THE_WAY


# --- 签到 and hours from on the way -----------------------------------------------------------------


def test_arriving_from_on_the_way_starts_the_service_and_travel_is_not_counted(cast, org):
    request, offer = _accepted(cast, org)
    offer_depart(offer=offer, volunteer=cast.volunteer, eta_minutes=30)

    offer_check_in(offer=offer, volunteer=cast.volunteer)

    stored = _offer(offer)
    assert stored.status == OS.IN_SERVICE and stored.checked_in_at is not None
    assert _offer_events(offer)[-1] == (OS.ON_THE_WAY, OS.IN_SERVICE, cast.volunteer.user_id, "")
    assert ServiceRequest.objects.get(id=request.id).status == Status.IN_SERVICE
    assert Notification.objects.filter(kind="in_service", recipient=cast.resident).count() == 1

    # Two hours on the road, one hour of service: one hour counts.
    now = timezone.now()
    Offer.objects.filter(id=offer.id).update(
        departed_at=now - timedelta(hours=2), checked_in_at=now - timedelta(hours=1, minutes=5)
    )
    offer_complete(offer=offer, volunteer=cast.volunteer, report="陪同就医")

    done = _offer(offer)
    assert (done.status, done.hours) == (OS.COMPLETED, Decimal("1.0"))
    assert ServiceRequest.objects.get(id=request.id).status == Status.COMPLETED


@pytest.mark.parametrize("stage", ["in_service", "completed"])
def test_depart_after_arriving_is_a_retry_that_changes_nothing(cast, org, stage):
    request, offer = _accepted(cast, org)
    offer_depart(offer=offer, volunteer=cast.volunteer, eta_minutes=15)
    offer_check_in(offer=offer, volunteer=cast.volunteer)
    if stage == "completed":
        offer_complete(offer=offer, volunteer=cast.volunteer)
    before = _snapshot(request, offer)

    returned = offer_depart(offer=offer, volunteer=cast.volunteer, eta_minutes=5)

    assert returned.status == stage
    assert _snapshot(request, offer) == before


def test_arriving_twice_from_on_the_way_is_a_retry(cast, org):
    request, offer = _accepted(cast, org)
    offer_depart(offer=offer, volunteer=cast.volunteer)
    offer_check_in(offer=offer, volunteer=cast.volunteer)
    before = _snapshot(request, offer)

    offer_check_in(offer=offer, volunteer=cast.volunteer)

    assert _snapshot(request, offer) == before


def test_accept_again_while_on_the_way_is_a_retry_that_changes_nothing(cast, org):
    request, offer = _accepted(cast, org)
    offer_depart(offer=offer, volunteer=cast.volunteer, eta_minutes=15)
    before = _snapshot(request, offer)

    returned = offer_accept(offer=offer, volunteer=cast.volunteer)

    assert returned.status == OS.ON_THE_WAY
    assert _snapshot(request, offer) == before


def test_decline_while_on_the_way_is_refused_as_already_accepted(cast, org):
    request, offer = _accepted(cast, org)
    offer_depart(offer=offer, volunteer=cast.volunteer)
    before = _snapshot(request, offer)

    with pytest.raises(Conflict) as excinfo:
        offer_decline(offer=offer, volunteer=cast.volunteer, reason="不去了")

    assert (excinfo.value.code, str(excinfo.value.message)) == ("already_accepted", "您已接下这个任务。")
    assert _snapshot(request, offer) == before


# --- 无法前往 and 取消 while on the way ----------------------------------------------------------


def test_release_while_on_the_way_frees_the_place_and_tells_staff(cast, org):
    request, offer = _accepted(cast, org)
    offer_depart(offer=offer, volunteer=cast.volunteer, eta_minutes=15)

    offer_release(offer=offer, volunteer=cast.volunteer, reason="路上车坏了")

    stored = _offer(offer)
    assert (stored.status, stored.response_note) == (OS.RELEASED, "路上车坏了")
    assert _offer_events(offer)[-1] == (OS.ON_THE_WAY, OS.RELEASED, cast.volunteer.user_id, "路上车坏了")
    stored_request = ServiceRequest.objects.get(id=request.id)
    assert (stored_request.status, stored_request.volunteers_accepted) == (Status.QUEUED, 0)
    assert _request_events(request)[-1] == (Status.ACCEPTED, Status.QUEUED)
    assert set(_bodies("volunteer_released").values()) == {
        f"志愿者{cast.volunteer.volunteer_number}无法前往#{request.id}「{request.title}」：路上车坏了"
    }
    # The place is free again: another volunteer can be offered it and take it.
    (again,) = dispatch_directed(request=stored_request, actor=cast.staff_a, volunteers=[cast.other_volunteer])
    offer_accept(offer=again, volunteer=cast.other_volunteer)
    assert ServiceRequest.objects.get(id=request.id).status == Status.ACCEPTED

    # A retry of the release changes nothing; a depart after it is refused with its reason.
    snapshot = _snapshot(request, offer)
    offer_release(offer=offer, volunteer=cast.volunteer, reason="路上车坏了")
    assert _snapshot(request, offer) == snapshot
    with pytest.raises(Conflict) as excinfo:
        offer_depart(offer=offer, volunteer=cast.volunteer, eta_minutes=10)
    assert (excinfo.value.code, str(excinfo.value.message)) == (
        "offer_released",
        "您已说明无法前往，这个任务已交还派单。",
    )
    assert _snapshot(request, offer) == snapshot


def test_cancel_while_on_the_way_withdraws_the_task_and_tells_the_volunteer(cast, org):
    request, offer = _accepted(cast, org)
    offer_depart(offer=offer, volunteer=cast.volunteer, eta_minutes=15)

    request_cancel(request=request, actor=cast.resident, reason="家人已经修好了")

    stored = _offer(offer)
    assert stored.status == OS.WITHDRAWN
    assert _offer_events(offer)[-1] == (OS.ON_THE_WAY, OS.WITHDRAWN, cast.resident.id, "家人已经修好了")
    stored_request = ServiceRequest.objects.get(id=request.id)
    assert (stored_request.status, stored_request.volunteers_accepted) == (Status.CANCELLED, 0)
    assert _bodies("offer_closed") == {
        cast.volunteer.user_id: f"服务邀请#{request.id}「{request.title}」已结束：家人已经修好了"
    }

    # Departing, arriving or releasing afterwards: refused, the request was cancelled.
    snapshot = _snapshot(request, offer)
    for attempt in (
        lambda: offer_depart(offer=offer, volunteer=cast.volunteer, eta_minutes=5),
        lambda: offer_check_in(offer=offer, volunteer=cast.volunteer),
        lambda: offer_release(offer=offer, volunteer=cast.volunteer, reason="不去了"),
    ):
        with pytest.raises(Conflict) as excinfo:
            attempt()
        assert (excinfo.value.code, str(excinfo.value.message)) == ("request_cancelled", "该需求已取消。")
    assert _snapshot(request, offer) == snapshot


def test_cancel_with_one_volunteer_on_the_way_and_one_accepted_frees_both_places(cast, org):
    request = _queued(cast, org, needed=2)
    first, second = dispatch_directed(
        request=request, actor=cast.staff_a, volunteers=[cast.volunteer, cast.other_volunteer]
    )
    offer_accept(offer=first, volunteer=cast.volunteer)
    offer_accept(offer=second, volunteer=cast.other_volunteer)
    offer_depart(offer=first, volunteer=cast.volunteer, eta_minutes=10)

    request_cancel(request=request, actor=cast.staff_a, reason="")

    assert {_offer(first).status, _offer(second).status} == {OS.WITHDRAWN}
    stored = ServiceRequest.objects.get(id=request.id)
    assert (stored.status, stored.volunteers_accepted) == (Status.CANCELLED, 0)
    assert set(_bodies("offer_closed")) == {cast.volunteer.user_id, cast.other_volunteer.user_id}


# --- refused moves ------------------------------------------------------------------------------


def test_depart_before_accepting_is_refused(cast, org):
    request = _queued(cast, org)
    (offer,) = dispatch_directed(request=request, actor=cast.staff_a, volunteers=[cast.volunteer])
    before = _snapshot(request, offer)

    with pytest.raises(Conflict) as excinfo:
        offer_depart(offer=offer, volunteer=cast.volunteer, eta_minutes=10)

    assert (excinfo.value.code, str(excinfo.value.message)) == ("not_accepted", "请先接单，再出发。")
    assert _snapshot(request, offer) == before


@pytest.mark.parametrize(
    ("ending", "code", "message"),
    [
        ("declined", "offer_declined", "您已婉拒了这个邀请。"),
        ("expired", "offer_expired", "该邀请已过期。"),
        ("lapsed", "offer_expired", "该邀请已过期。"),
        ("taken", "offer_taken", "手慢了，这个需求已经有志愿者接单了。"),
    ],
)
def test_depart_on_an_offer_that_ended_is_refused_with_its_reason(cast, org, ending, code, message):
    request = _queued(cast, org)
    mine, theirs = dispatch_directed(
        request=request, actor=cast.staff_a, volunteers=[cast.volunteer, cast.other_volunteer]
    )
    if ending == "declined":
        offer_decline(offer=mine, volunteer=cast.volunteer)
    elif ending in ("expired", "lapsed"):
        Offer.objects.filter(request=request).update(expires_at=timezone.now() - timedelta(minutes=1))
        if ending == "expired":
            offers_expire()
    else:
        offer_accept(offer=theirs, volunteer=cast.other_volunteer)
    before = _snapshot(request, mine)

    with pytest.raises(Conflict) as excinfo:
        offer_depart(offer=mine, volunteer=cast.volunteer, eta_minutes=10)

    assert (excinfo.value.code, str(excinfo.value.message)) == (code, message)
    assert _snapshot(request, mine) == before
