"""Every offer status change, single or bulk, writes exactly one event row: a test per
transition of the table, refusals that write nothing, and the exact rows the services write."""

import itertools
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.core.errors import Conflict
from apps.core.reasons import Reason
from apps.dispatch.models import OFFER_MACHINE, OFFER_TRANSITIONS, Offer, OfferEvent, OfferStatus
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
from apps.service_requests.models import REQUEST_MACHINE, RequestEvent, ServiceRequest, Status
from apps.service_requests.services import request_review
from tests.accounts.factories import make_user
from tests.service_requests.factories import event_rows, submit_request
from tests.volunteers.factories import make_volunteer

OS = OfferStatus

ALL_PAIRS = list(itertools.product(OS.values, OS.values))
ALLOWED_PAIRS = [(a, b) for a, b in ALL_PAIRS if b in OFFER_TRANSITIONS[a]]
DISALLOWED_PAIRS = [(a, b) for a, b in ALL_PAIRS if b not in OFFER_TRANSITIONS[a]]


def _queued(cast, org, *, needed: int = 1) -> ServiceRequest:
    request = submit_request(
        requester=cast.resident, category=org["category"], village=org["village_a1"], volunteers_needed=needed
    )
    request_review(request=request, actor=cast.staff_a, accept=True)
    return request


def _rows(offer: Offer) -> list[tuple[str, str, int | None, str]]:
    events = OfferEvent.objects.filter(offer_id=offer.id).order_by("created_at", "id")
    return [(e.from_status, e.to_status, e.actor_id, e.display_reason) for e in events]


def _status(offer: Offer) -> str:
    return Offer.objects.get(id=offer.id).status


@pytest.fixture
def more_volunteers(org):
    return [
        make_volunteer(township=org["township_a"], village=org["village_a1"], categories=[org["category"]], name=name)
        for name in ("陈志强", "杨丽")
    ]


@pytest.fixture
def offer_in(cast, org):
    """``offer_in(status)`` → an offer made by dispatch, then forced into ``status``."""

    def make(status: str) -> Offer:
        request = _queued(cast, org)
        offer = dispatch_directed(request=request, actor=cast.staff_a, volunteers=[cast.volunteer])[0]
        Offer.objects.filter(id=offer.id).update(status=status)
        return Offer.objects.get(id=offer.id)

    return make


# --- the table, one test per pair ----------------------------------------------------------------


def test_the_offer_table_has_every_status_and_twelve_moves() -> None:
    assert set(OFFER_TRANSITIONS) == set(OS.values)
    # 出发 adds accepted → on the way, and from there arrive, release or withdraw.
    assert len(ALLOWED_PAIRS) == 12
    assert len(DISALLOWED_PAIRS) == 81 - 12


@pytest.mark.parametrize(("from_status", "to_status"), ALLOWED_PAIRS)
def test_allowed_offer_move_writes_exactly_one_event(offer_in, cast, from_status, to_status):
    offer = offer_in(from_status)
    before = set(OfferEvent.objects.values_list("id", flat=True))
    actor = make_user(name="钱所长")

    with transaction.atomic():
        returned = OFFER_MACHINE.move(offer, to=to_status, actor=actor, reason=Reason.typed("  按流程处理 "))

    assert returned is offer
    assert offer.status == to_status
    assert _status(offer) == to_status
    new = list(OfferEvent.objects.exclude(id__in=before))
    assert [(e.offer_id, e.from_status, e.to_status, e.actor_id, e.display_reason) for e in new] == [
        (offer.id, from_status, to_status, actor.id, "按流程处理")
    ]


@pytest.mark.parametrize(("from_status", "to_status"), DISALLOWED_PAIRS)
def test_disallowed_offer_move_raises_illegal_transition_and_writes_nothing(offer_in, from_status, to_status):
    offer = offer_in(from_status)
    stored_before = Offer.objects.values().get(id=offer.id)
    events_before = OfferEvent.objects.count()

    with pytest.raises(Conflict) as excinfo, transaction.atomic():
        OFFER_MACHINE.move(offer, to=to_status, actor=None, reason=Reason.typed("不该发生"))

    assert excinfo.value.code == "illegal_transition"
    assert excinfo.value.status_code == 409
    assert offer.status == from_status
    assert Offer.objects.values().get(id=offer.id) == stored_before
    assert OfferEvent.objects.count() == events_before


@pytest.mark.parametrize(("from_status", "to_status"), DISALLOWED_PAIRS)
def test_disallowed_bulk_move_raises_illegal_transition_and_writes_nothing(offer_in, from_status, to_status):
    offer = offer_in(from_status)
    events_before = OfferEvent.objects.count()

    with pytest.raises(Conflict) as excinfo, transaction.atomic():
        OFFER_MACHINE.move_many(Offer.objects.filter(id=offer.id), from_status=from_status, to=to_status, actor=None)

    assert excinfo.value.code == "illegal_transition"
    assert _status(offer) == from_status
    assert OfferEvent.objects.count() == events_before


def test_stale_offer_move_raises_stale_status_and_writes_nothing(offer_in, cast):
    offer = offer_in(OS.OFFERED)
    # Someone else accepted it meanwhile; this caller still holds it as offered.
    Offer.objects.filter(id=offer.id).update(status=OS.ACCEPTED)
    events_before = OfferEvent.objects.count()

    with pytest.raises(Conflict) as excinfo, transaction.atomic():
        OFFER_MACHINE.move(offer, to=OS.DECLINED, actor=cast.volunteer.user, reason=Reason.typed("没空"))

    assert excinfo.value.code == "stale_status"
    assert excinfo.value.status_code == 409
    assert _status(offer) == OS.ACCEPTED
    assert OfferEvent.objects.count() == events_before


def test_stale_expected_status_raises_stale_status_and_writes_nothing(offer_in):
    offer = offer_in(OS.EXPIRED)
    events_before = OfferEvent.objects.count()

    with pytest.raises(Conflict) as excinfo, transaction.atomic():
        OFFER_MACHINE.move(offer, to=OS.WITHDRAWN, actor=None, expected=OS.OFFERED)

    assert excinfo.value.code == "stale_status"
    assert _status(offer) == OS.EXPIRED
    assert OfferEvent.objects.count() == events_before


@pytest.mark.django_db(transaction=True)
def test_moves_outside_a_transaction_raise_and_change_nothing(cast, org):
    request = _queued(cast, org)
    offer = dispatch_directed(request=request, actor=cast.staff_a, volunteers=[cast.volunteer])[0]
    assert not connection.in_atomic_block
    events_before = OfferEvent.objects.count()

    with pytest.raises(RuntimeError, match=r"^Offer status moves must run inside transaction\.atomic\(\)$"):
        OFFER_MACHINE.move(offer, to=OS.ACCEPTED, actor=cast.volunteer.user)
    with pytest.raises(RuntimeError, match=r"^Offer status moves must run inside transaction\.atomic\(\)$"):
        OFFER_MACHINE.move_many(Offer.objects.filter(id=offer.id), from_status=OS.OFFERED, to=OS.EXPIRED, actor=None)
    with pytest.raises(RuntimeError, match=r"^Offer status moves must run inside transaction\.atomic\(\)$"):
        OFFER_MACHINE.record_created([offer], actor=cast.staff_a)
    with pytest.raises(RuntimeError, match=r"^ServiceRequest status moves must run inside transaction\.atomic\(\)$"):
        REQUEST_MACHINE.move(request, to=Status.ESCALATED, actor=None)

    assert offer.status == OS.OFFERED
    assert _status(offer) == OS.OFFERED
    assert OfferEvent.objects.count() == events_before
    assert ServiceRequest.objects.get(id=request.id).status == Status.OFFERED


# --- the rows the services write -----------------------------------------------------------------


def test_dispatch_writes_one_created_event_per_offer(cast, org):
    request = _queued(cast, org)

    offers = dispatch_directed(request=request, actor=cast.staff_a, volunteers=[cast.volunteer, cast.other_volunteer])

    assert len(offers) == 2
    for offer in offers:
        assert _rows(offer) == [("", OS.OFFERED, cast.staff_a.id, "")]
    assert OfferEvent.objects.count() == 2


def test_accept_and_withdraw_on_full_write_one_event_each_in_one_bulk_insert(cast, org, more_volunteers):
    request = _queued(cast, org)
    volunteers = [cast.volunteer, cast.other_volunteer, *more_volunteers]
    offers = {o.volunteer_id: o for o in dispatch_directed(request=request, actor=cast.staff_a, volunteers=volunteers)}
    winner = offers[cast.volunteer.id]
    others = [o for vid, o in offers.items() if vid != cast.volunteer.id]
    assert len(others) == 3

    with CaptureQueriesContext(connection) as queries:
        offer_accept(offer=winner, volunteer=cast.volunteer)

    inserts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith('INSERT INTO "dispatch_offerevent"')]
    # One for the accepted offer, one bulk insert for the three withdrawn ones.
    assert len(inserts) == 2
    assert _rows(winner) == [
        ("", OS.OFFERED, cast.staff_a.id, ""),
        (OS.OFFERED, OS.ACCEPTED, cast.volunteer.user.id, ""),
    ]
    assert _status(winner) == OS.ACCEPTED
    for offer in others:
        assert _rows(offer) == [("", OS.OFFERED, cast.staff_a.id, ""), (OS.OFFERED, OS.WITHDRAWN, None, "已满员")]
        assert _status(offer) == OS.WITHDRAWN
    assert OfferEvent.objects.count() == 4 + 4


def test_accept_with_places_left_withdraws_nothing(cast, org):
    request = _queued(cast, org, needed=2)
    offers = {
        o.volunteer_id: o
        for o in dispatch_directed(
            request=request, actor=cast.staff_a, volunteers=[cast.volunteer, cast.other_volunteer]
        )
    }

    offer_accept(offer=offers[cast.volunteer.id], volunteer=cast.volunteer)

    assert _rows(offers[cast.other_volunteer.id]) == [("", OS.OFFERED, cast.staff_a.id, "")]
    assert _rows(offers[cast.volunteer.id])[-1] == (OS.OFFERED, OS.ACCEPTED, cast.volunteer.user.id, "")


def test_decline_writes_the_typed_reason_as_typed(cast, org):
    request = _queued(cast, org)
    offer = dispatch_directed(request=request, actor=cast.staff_a, volunteers=[cast.volunteer])[0]

    offer_decline(offer=offer, volunteer=cast.volunteer, reason="  今天要带孩子看病 ")

    assert _rows(offer) == [
        ("", OS.OFFERED, cast.staff_a.id, ""),
        (OS.OFFERED, OS.DECLINED, cast.volunteer.user.id, "今天要带孩子看病"),
    ]
    assert _status(offer) == OS.DECLINED
    assert event_rows(request, to_status=Status.QUEUED)[-1] == (
        Status.OFFERED,
        Status.QUEUED,
        None,
        "邀请均已婉拒或过期，退回待派单",
    )


def test_expiry_sweep_writes_one_event_per_expired_offer_and_a_second_sweep_none(cast, org, more_volunteers):
    first = _queued(cast, org)
    second = _queued(cast, org)
    lapsing = dispatch_directed(
        request=first, actor=cast.staff_a, volunteers=[cast.volunteer, cast.other_volunteer], expires_in_minutes=5
    )
    lapsing += dispatch_directed(request=second, actor=cast.staff_a, volunteers=more_volunteers, expires_in_minutes=5)
    # Still live at the sweep's time: left alone.
    third = _queued(cast, org)
    live = dispatch_directed(request=third, actor=cast.staff_a, volunteers=[cast.volunteer], expires_in_minutes=60)[0]
    now = timezone.now() + timedelta(minutes=10)

    assert offers_expire(now=now) == 4

    for offer in lapsing:
        assert _rows(offer) == [("", OS.OFFERED, cast.staff_a.id, ""), (OS.OFFERED, OS.EXPIRED, None, "答复时间已过")]
        assert _status(offer) == OS.EXPIRED
    assert _rows(live) == [("", OS.OFFERED, cast.staff_a.id, "")]
    count = OfferEvent.objects.count()

    assert offers_expire(now=now) == 0
    assert OfferEvent.objects.count() == count


def test_check_in_and_complete_write_one_event_each(cast, org):
    request = _queued(cast, org)
    offer = dispatch_directed(request=request, actor=cast.staff_a, volunteers=[cast.volunteer])[0]
    offer_accept(offer=offer, volunteer=cast.volunteer)

    offer_check_in(offer=offer, volunteer=cast.volunteer)
    assert _rows(offer)[-1] == (OS.ACCEPTED, OS.IN_SERVICE, cast.volunteer.user.id, "")
    offer_complete(offer=offer, volunteer=cast.volunteer, report="已修好")

    uid = cast.volunteer.user.id
    assert _rows(offer) == [
        ("", OS.OFFERED, cast.staff_a.id, ""),
        (OS.OFFERED, OS.ACCEPTED, uid, ""),
        (OS.ACCEPTED, OS.IN_SERVICE, uid, ""),
        (OS.IN_SERVICE, OS.COMPLETED, uid, ""),
    ]
    assert _status(offer) == OS.COMPLETED


def test_release_writes_the_typed_reason(cast, org):
    request = _queued(cast, org)
    offer = dispatch_directed(request=request, actor=cast.staff_a, volunteers=[cast.volunteer])[0]
    offer_accept(offer=offer, volunteer=cast.volunteer)

    offer_release(offer=offer, volunteer=cast.volunteer, reason="临时发烧，去不了")

    assert _rows(offer)[1:] == [
        (OS.OFFERED, OS.ACCEPTED, cast.volunteer.user.id, ""),
        (OS.ACCEPTED, OS.RELEASED, cast.volunteer.user.id, "临时发烧，去不了"),
    ]
    assert _status(offer) == OS.RELEASED


@pytest.mark.parametrize(
    ("who", "typed", "shown"),
    [
        ("resident", "", "群众取消"),
        ("resident", "  已经自己修好了 ", "已经自己修好了"),
        ("staff_a", "", "工作人员取消"),
        ("staff_a", "重复点单", "重复点单"),
    ],
)
def test_cancel_withdraws_offered_and_accepted_offers_with_one_event_each(
    cast, org, more_volunteers, who, typed, shown
):
    request = _queued(cast, org, needed=2)
    volunteers = [cast.volunteer, cast.other_volunteer, *more_volunteers]
    offers = {o.volunteer_id: o for o in dispatch_directed(request=request, actor=cast.staff_a, volunteers=volunteers)}
    offer_accept(offer=offers[cast.volunteer.id], volunteer=cast.volunteer)
    offer_decline(offer=offers[more_volunteers[0].id], volunteer=more_volunteers[0])
    actor = getattr(cast, who)
    before = {o.id: _rows(o) for o in offers.values()}

    request_cancel(request=request, actor=actor, reason=typed)

    accepted = offers[cast.volunteer.id]
    assert _rows(accepted) == [*before[accepted.id], (OS.ACCEPTED, OS.WITHDRAWN, actor.id, shown)]
    for volunteer in (cast.other_volunteer, more_volunteers[1]):
        offer = offers[volunteer.id]
        assert _rows(offer) == [*before[offer.id], (OS.OFFERED, OS.WITHDRAWN, actor.id, shown)]
    declined = offers[more_volunteers[0].id]
    assert _rows(declined) == before[declined.id]
    assert {vid: _status(o) for vid, o in offers.items()} == {
        cast.volunteer.id: OS.WITHDRAWN,
        cast.other_volunteer.id: OS.WITHDRAWN,
        more_volunteers[0].id: OS.DECLINED,
        more_volunteers[1].id: OS.WITHDRAWN,
    }
    assert event_rows(request)[-1] == (Status.OFFERED, Status.CANCELLED, actor.id, shown)


# --- the request side: the bulk move ------------------------------------------------------------


def test_request_move_many_moves_only_rows_still_in_from_status_one_event_each(cast, org):
    requests = [_queued(cast, org) for _ in range(4)]
    # One was cancelled meanwhile; it must be left alone and get no event.
    ServiceRequest.objects.filter(id=requests[2].id).update(status=Status.CANCELLED)
    ids = [r.id for r in requests]
    before = {r.id: event_rows(r) for r in requests}

    with transaction.atomic():
        moved = REQUEST_MACHINE.move_many(
            ServiceRequest.objects.filter(id__in=ids),
            from_status=Status.QUEUED,
            to=Status.ESCALATED,
            actor=None,
            reason=Reason.system("escalated_overdue"),
        )

    assert moved == sorted([requests[0].id, requests[1].id, requests[3].id])
    for request in requests:
        if request.id in moved:
            assert event_rows(request) == [
                *before[request.id],
                (Status.QUEUED, Status.ESCALATED, None, "超时未派出，已上报中心"),
            ]
            assert ServiceRequest.objects.get(id=request.id).status == Status.ESCALATED
        else:
            assert event_rows(request) == before[request.id]
            assert ServiceRequest.objects.get(id=request.id).status == Status.CANCELLED
    new = RequestEvent.objects.filter(to_status=Status.ESCALATED)
    assert sorted(new.values_list("request_id", flat=True)) == moved


def test_request_move_many_with_no_row_left_moves_nothing(cast, org):
    request = _queued(cast, org)
    count = RequestEvent.objects.count()

    with transaction.atomic():
        moved = REQUEST_MACHINE.move_many(
            ServiceRequest.objects.filter(id=request.id), from_status=Status.OFFERED, to=Status.QUEUED, actor=None
        )

    assert moved == []
    assert RequestEvent.objects.count() == count
    assert ServiceRequest.objects.get(id=request.id).status == Status.QUEUED
