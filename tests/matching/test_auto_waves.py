"""Auto mode, one step at a time (``matching_advance`` called as the worker calls it): waves of
needed × factor offers, the next wave the moment the live offers can no longer fill the places,
the reach widened once, then the escalation to the parent node with its staff told; and the
event log telling the whole story. Also the helpers the other auto-mode tests share."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from apps.dispatch.models import Offer, OfferStatus
from apps.dispatch.services import offer_accept, offer_decline, offer_release, offers_expire, request_cancel
from apps.jobs.models import Job, JobState
from apps.matching.models import MatchState, MatchWave, NeedsPerson
from apps.matching.selectors import rank_candidates
from apps.matching.services import matching_advance
from apps.notifications.models import Kind, Notification
from apps.organisation.models import DispatchMode, Place, ServiceCategory
from apps.service_requests.models import RequestEvent, ServiceRequest, Status
from apps.service_requests.services import request_review
from apps.volunteers.models import MatchableVolunteer, VolunteerProfile
from tests.accounts.factories import make_user
from tests.conftest import Cast
from tests.service_requests.factories import submit_request
from tests.volunteers.factories import make_volunteer

# --- Shared by the auto-mode tests -------------------------------------------------------------


def make_auto(category: ServiceCategory) -> None:
    category.default_dispatch_mode = DispatchMode.AUTO
    category.save(update_fields=["default_dispatch_mode"])


def add_volunteers(org: dict, count: int, *, prefix: str = "1370000") -> list[VolunteerProfile]:
    """``count`` volunteers living in village A1 who serve the tests' category: candidates for
    every request there."""
    return [
        make_volunteer(
            township=org["township_a"],
            village=org["village_a1"],
            categories=[org["category"]],
            name="志愿者",
            phone=f"{prefix}{i:04d}",
        )
        for i in range(count)
    ]


def queued_auto_request(cast: Cast, org: dict, *, needed: int = 1, village: Place | None = None) -> ServiceRequest:
    """A request in auto mode that staff accepted into the queue (its job row written)."""
    make_auto(org["category"])
    request = submit_request(
        requester=cast.resident,
        category=org["category"],
        village=village or org["village_a1"],
        volunteers_needed=needed,
    )
    request_review(request=request, actor=cast.staff_a, accept=True)
    request.refresh_from_db()
    assert request.dispatch_mode == DispatchMode.AUTO
    return request


def story(request: ServiceRequest) -> list[tuple[str, str, str, dict]]:
    """(from, to, reason code, reason params) of each event of ``request``, in order."""
    return [
        (e.from_status, e.to_status, e.reason_code, e.reason_params)
        for e in RequestEvent.objects.filter(request=request).order_by("created_at", "id")
    ]


def live_offers(request: ServiceRequest) -> list[Offer]:
    return list(
        Offer.objects.filter(request=request, status=OfferStatus.OFFERED).select_related("volunteer").order_by("id")
    )


def expire_all(request: ServiceRequest) -> int:
    """Let every live offer of ``request`` run out, and run the expiry sweep as beat does. One
    transaction: a worker never sees the offers lapsed before the sweep has expired them (it would
    send the next wave from ``offered`` and the story would read differently)."""
    with transaction.atomic():
        Offer.objects.filter(request=request, status=OfferStatus.OFFERED).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
        return offers_expire()


def counts(request: ServiceRequest) -> tuple[int, int, int, int]:
    return (
        Offer.objects.filter(request=request).count(),
        RequestEvent.objects.filter(request=request).count(),
        Notification.objects.filter(request_id=request.id).count(),
        MatchWave.objects.filter(request=request).count(),
    )


def notified(request: ServiceRequest, kind: str) -> list[int]:
    return sorted(Notification.objects.filter(request_id=request.id, kind=kind).values_list("recipient_id", flat=True))


# --- Tests ---------------------------------------------------------------------------------------


@pytest.fixture
def volunteers(org) -> list[VolunteerProfile]:
    return add_volunteers(org, 12)


def test_first_wave_offers_needed_times_factor(db, cast, org, volunteers, settings):
    settings.MATCHING_WAVE_FACTOR = 3
    request = queued_auto_request(cast, org, needed=2)
    assert Job.objects.filter(task="matching.advance", subject_id=request.id, state=JobState.PENDING).count() == 1

    matching_advance(request_id=request.id)

    offers = list(Offer.objects.filter(request=request).select_related("volunteer"))
    assert len(offers) == 6
    assert {(o.via, o.wave, o.offered_by_id, o.status) for o in offers} == {
        (DispatchMode.AUTO, 1, None, OfferStatus.OFFERED)
    }
    assert len({o.volunteer_id for o in offers}) == 6
    [wave] = MatchWave.objects.filter(request=request)
    assert (wave.number, wave.offered, wave.radius_extra_km, wave.due_at) == (1, 6, 0, offers[0].expires_at)
    state = MatchState.objects.get(request=request)
    assert (state.waves_sent, state.waves_at_this_reach, state.widened, state.needs_person) == (1, 1, False, "")
    assert state.next_wave_at == offers[0].expires_at
    request.refresh_from_db()
    assert request.status == Status.OFFERED
    assert story(request)[-1] == ("queued", "offered", "wave_sent", {"wave": 1, "n": 6})
    assert notified(request, Kind.OFFERED) == sorted(o.volunteer.user_id for o in offers)


def test_a_volunteer_paused_past_the_services_is_left_out_of_the_wave_and_their_row_caught_up(
    db, cast, org, volunteers, settings
):
    # Paused by a write that skipped the services: the matchable row still says "may be offered
    # work" until beat's refresh. The wave must neither offer them nor fail for them.
    settings.MATCHING_WAVE_FACTOR = 3
    request = queued_auto_request(cast, org, needed=1)
    # The wave's three: the cast's volunteer of village A1 and the first two of ours (equal
    # scores: the earlier registration first).
    paused = volunteers[0]
    VolunteerProfile.objects.filter(id=paused.id).update(is_active=False)
    assert MatchableVolunteer.objects.filter(volunteer=paused).exists()

    matching_advance(request_id=request.id)

    offered = set(Offer.objects.filter(request=request).values_list("volunteer_id", flat=True))
    assert offered == {cast.volunteer.id, volunteers[1].id}
    assert not MatchableVolunteer.objects.filter(volunteer=paused).exists()
    assert [c.volunteer.id for c in rank_candidates(request=request, limit=2)] == [v.id for v in volunteers[2:4]]


def test_the_last_decline_sends_the_next_wave_and_earlier_ones_do_not(db, cast, org, volunteers, settings):
    settings.MATCHING_WAVE_FACTOR = 3
    request = queued_auto_request(cast, org, needed=1)
    matching_advance(request_id=request.id)
    first = live_offers(request)
    assert len(first) == 3

    for offer in first[:2]:
        offer_decline(offer=offer, volunteer=offer.volunteer, reason="")
        # The decline wrote the queue's next step; the live offer left can still fill the place.
        assert Job.objects.filter(task="matching.advance", subject_id=request.id, state=JobState.PENDING).exists()
        matching_advance(request_id=request.id)
        assert Offer.objects.filter(request=request).count() == 3
    offer_decline(offer=first[2], volunteer=first[2].volunteer, reason="")
    request.refresh_from_db()
    assert request.status == Status.QUEUED
    matching_advance(request_id=request.id)

    second = live_offers(request)
    assert len(second) == 3
    assert {o.wave for o in second} == {2}
    assert not {o.volunteer_id for o in second} & {o.volunteer_id for o in first}
    assert [(e[0], e[1], e[2]) for e in story(request)] == [
        ("", "submitted", ""),
        ("submitted", "queued", ""),
        ("queued", "offered", "wave_sent"),
        ("offered", "queued", "offers_ran_out"),
        ("queued", "offered", "wave_sent"),
    ]
    # The queue took it on at once: staff are not told it went back to the queue.
    assert notified(request, Kind.RETURNED_TO_QUEUE) == []


def test_partial_declines_wait_while_live_offers_can_fill_the_places(db, cast, org, volunteers, settings):
    settings.MATCHING_WAVE_FACTOR = 3
    request = queued_auto_request(cast, org, needed=2)
    matching_advance(request_id=request.id)
    first = live_offers(request)
    offer_accept(offer=first[0], volunteer=first[0].volunteer)
    for offer in first[1:5]:  # 4 of the 5 others decline: one live offer for one open place
        offer_decline(offer=offer, volunteer=offer.volunteer, reason="")
    matching_advance(request_id=request.id)
    assert Offer.objects.filter(request=request).count() == 6

    offer_decline(offer=first[5], volunteer=first[5].volunteer, reason="")
    matching_advance(request_id=request.id)

    # One place open: a wave of 1 × 3.
    second = live_offers(request)
    assert [(o.wave, o.via) for o in second] == [(2, DispatchMode.AUTO)] * 3
    assert MatchWave.objects.get(request=request, number=2).offered == 3


def test_a_release_sends_a_wave_for_the_place_it_freed(db, cast, org, volunteers, settings):
    settings.MATCHING_WAVE_FACTOR = 2
    request = queued_auto_request(cast, org, needed=1)
    matching_advance(request_id=request.id)
    first = live_offers(request)
    offer_accept(offer=first[0], volunteer=first[0].volunteer)
    request.refresh_from_db()
    assert request.status == Status.ACCEPTED
    matching_advance(request_id=request.id)  # fully staffed: nothing to do
    assert Offer.objects.filter(request=request).count() == 2

    offer_release(offer=first[0], volunteer=first[0].volunteer, reason="家里临时有事")
    matching_advance(request_id=request.id)

    assert [o.wave for o in live_offers(request)] == [2, 2]


def test_expiries_widen_the_reach_once_then_escalate_to_the_parent_node(db, cast, org, volunteers, settings):
    settings.MATCHING_WAVE_FACTOR = 1
    settings.MATCHING_MAX_WAVES = 1
    settings.MATCHING_WIDEN_KM = 10
    request = queued_auto_request(cast, org, needed=1)

    matching_advance(request_id=request.id)
    assert expire_all(request) == 1
    matching_advance(request_id=request.id)  # the wave budget at this reach is spent: widen
    assert [(w.number, w.offered, w.radius_extra_km) for w in MatchWave.objects.filter(request=request)] == [
        (1, 1, 0),
        (2, 1, 10),
    ]
    assert expire_all(request) == 1
    matching_advance(request_id=request.id)  # widened and spent again: escalate

    request.refresh_from_db()
    assert request.status == Status.ESCALATED
    state = MatchState.objects.get(request=request)
    assert (state.needs_person, state.escalated_to_id, state.next_wave_at) == (
        NeedsPerson.ESCALATED,
        org["office_a"].id,
        None,
    )
    assert story(request) == [
        ("", "submitted", "", {}),
        ("submitted", "queued", "", {}),
        ("queued", "offered", "wave_sent", {"wave": 1, "n": 1}),
        ("offered", "queued", "offers_ran_out", {}),
        ("queued", "queued", "reach_widened", {"km": 10}),
        ("queued", "offered", "wave_sent", {"wave": 2, "n": 1}),
        ("offered", "queued", "offers_ran_out", {}),
        ("queued", "queued", "no_takers", {}),
        ("queued", "escalated", "escalated_to_parent", {"node": "桃园街道新时代文明实践所"}),
    ]
    # The township office's staff, and only they, are told; nobody was told of the returns.
    assert notified(request, Kind.MATCH_ESCALATED) == [cast.staff_a.id]
    escalated = Notification.objects.get(request_id=request.id, kind=Kind.MATCH_ESCALATED)
    assert escalated.params["node"] == "桃园街道新时代文明实践所"
    assert escalated.params["reason_code"] == "no_takers"
    assert notified(request, Kind.NEEDS_PERSON) == []
    assert notified(request, Kind.RETURNED_TO_QUEUE) == []

    # Asked again (a redelivered message, the sweep): the queue leaves it to a person.
    before = counts(request)
    matching_advance(request_id=request.id)
    assert counts(request) == before


def test_no_candidates_needs_a_person_and_tells_the_station_and_the_parent(db, org, settings):
    resident = make_user(name="王秀兰")
    staff_a = make_user(name="钱所长", staff_node=org["office_a"])
    station_staff = make_user(name="孙站长", staff_node=org["station_a1"])
    make_auto(org["category"])
    request = submit_request(requester=resident, category=org["category"], village=org["village_a1"])
    request_review(request=request, actor=staff_a, accept=True)

    matching_advance(request_id=request.id)

    request.refresh_from_db()
    assert request.status == Status.ESCALATED
    assert Offer.objects.filter(request=request).count() == 0
    assert MatchWave.objects.filter(request=request).count() == 0
    state = MatchState.objects.get(request=request)
    assert (state.needs_person, state.escalated_to_id, state.widened) == (
        NeedsPerson.NO_CANDIDATES,
        org["office_a"].id,
        True,
    )
    assert [(e[0], e[1], e[2]) for e in story(request)][2:] == [
        ("queued", "queued", "reach_widened"),
        ("queued", "queued", "no_candidates"),
        ("queued", "escalated", "escalated_to_parent"),
    ]
    assert notified(request, Kind.NEEDS_PERSON) == [station_staff.id]
    assert Notification.objects.get(request_id=request.id, kind=Kind.NEEDS_PERSON).params["reason_code"] == (
        "no_candidates"
    )
    assert notified(request, Kind.MATCH_ESCALATED) == [staff_a.id]


def test_advancing_twice_changes_nothing(db, cast, org, volunteers):
    request = queued_auto_request(cast, org, needed=1)
    matching_advance(request_id=request.id)
    after_first = counts(request)
    state = MatchState.objects.get(request=request)

    matching_advance(request_id=request.id)
    matching_advance(request_id=request.id)

    assert counts(request) == after_first
    again = MatchState.objects.get(request=request)
    assert (again.waves_sent, again.waves_at_this_reach, again.next_wave_at) == (
        state.waves_sent,
        state.waves_at_this_reach,
        state.next_wave_at,
    )


def test_a_wave_already_written_by_another_worker_is_not_sent_again(db, cast, org, volunteers):
    request = queued_auto_request(cast, org, needed=1)
    # Another worker's wave 1 that this step cannot see in its state (the unique number is the backstop).
    MatchWave.objects.create(request=request, number=1, offered=3, due_at=timezone.now())

    matching_advance(request_id=request.id)

    assert Offer.objects.filter(request=request).count() == 0
    assert MatchWave.objects.filter(request=request).count() == 1
    request.refresh_from_db()
    assert request.status == Status.QUEUED


def test_directed_requests_are_left_to_staff(db, cast, org, volunteers):
    request = submit_request(requester=cast.resident, category=org["category"], village=org["village_a1"])
    request_review(request=request, actor=cast.staff_a, accept=True)
    assert not Job.objects.filter(subject_id=request.id, task="matching.advance").exists()

    matching_advance(request_id=request.id)

    assert Offer.objects.filter(request=request).count() == 0
    assert not MatchState.objects.filter(request=request).exists()


def test_a_cancelled_or_unknown_request_is_left_alone(db, cast, org, volunteers):
    request = queued_auto_request(cast, org)
    request_cancel(request=request, actor=cast.resident, reason="")
    matching_advance(request_id=request.id)
    matching_advance(request_id=999_999)
    assert Offer.objects.filter(request=request).count() == 0
