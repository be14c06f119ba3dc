"""Staff switching a request's dispatch mode, the beat sweep that finds requests a lost step left
behind, and the reads the staff pages show of the queue at work."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.core.errors import Conflict, DomainError, NotFound
from apps.dispatch.models import Offer
from apps.dispatch.services import offer_decline, request_cancel
from apps.jobs.models import Job, JobState
from apps.matching.models import MatchState, NeedsPerson
from apps.matching.queue_selectors import match_summary, split_queue
from apps.matching.services import dispatch_mode_set, matching_advance, matching_sweep
from apps.notifications.models import Kind
from apps.organisation.models import DispatchMode
from apps.service_requests.models import ServiceRequest, Status
from apps.service_requests.services import request_review
from apps.teams.models import Team, TeamKind
from apps.teams.services import team_create
from tests.accounts.factories import make_user
from tests.matching.test_auto_waves import (
    add_volunteers,
    counts,
    expire_all,
    live_offers,
    notified,
    queued_auto_request,
    story,
)
from tests.service_requests.factories import submit_request

ADVANCE = "matching.advance"


def pending_steps(request: ServiceRequest) -> int:
    return Job.objects.filter(task=ADVANCE, subject_id=request.id, state=JobState.PENDING).count()


def directed_request(cast, org) -> ServiceRequest:
    org["category"].default_dispatch_mode = DispatchMode.DIRECTED
    org["category"].save(update_fields=["default_dispatch_mode"])
    request = submit_request(requester=cast.resident, category=org["category"], village=org["village_a1"])
    request_review(request=request, actor=cast.staff_a, accept=True)
    request.refresh_from_db()
    return request


# --- Switching the mode ---------------------------------------------------------------------------


def test_staff_switch_a_directed_request_to_auto_and_the_queue_takes_it(db, cast, org):
    add_volunteers(org, 6)
    request = directed_request(cast, org)
    assert pending_steps(request) == 0

    dispatch_mode_set(request=request, actor=cast.staff_a, mode=DispatchMode.AUTO)

    assert ServiceRequest.objects.get(id=request.id).dispatch_mode == DispatchMode.AUTO
    assert story(request)[-1] == ("queued", "queued", "mode_changed", {"mode": "自动派单"})
    assert pending_steps(request) == 1
    matching_advance(request_id=request.id)
    assert len(live_offers(request)) == 3


def test_switching_to_directed_stops_the_queue_and_leaves_the_offers_out(db, cast, org):
    add_volunteers(org, 9)
    request = queued_auto_request(cast, org)
    matching_advance(request_id=request.id)
    first = live_offers(request)

    dispatch_mode_set(request=request, actor=cast.station_staff_a1, mode=DispatchMode.DIRECTED)
    for offer in first:
        offer_decline(offer=offer, volunteer=offer.volunteer, reason="")
    matching_advance(request_id=request.id)

    assert Offer.objects.filter(request=request).count() == 3
    assert ServiceRequest.objects.get(id=request.id).status == Status.QUEUED
    # Back in staff's hands: now they are told it returned to the queue.
    assert notified(request, Kind.RETURNED_TO_QUEUE) == sorted(
        [cast.staff_a.id, cast.station_staff_a1.id, cast.sub_centre_staff.id]
    )


def test_staff_restart_an_escalated_request_and_the_next_escalation_goes_higher(db, cast, org, settings):
    settings.MATCHING_WAVE_FACTOR = 1
    settings.MATCHING_MAX_WAVES = 1
    add_volunteers(org, 6)
    request = queued_auto_request(cast, org)
    for _ in range(2):
        matching_advance(request_id=request.id)
        expire_all(request)
    matching_advance(request_id=request.id)
    state = MatchState.objects.get(request=request)
    assert (state.needs_person, state.escalated_to_id) == (NeedsPerson.ESCALATED, org["office_a"].id)
    request.refresh_from_db()

    # The township office's staff try the queue once more: same mode, a fresh budget.
    dispatch_mode_set(request=request, actor=cast.staff_a, mode=DispatchMode.AUTO)
    state.refresh_from_db()
    assert (state.needs_person, state.waves_at_this_reach) == ("", 0)
    matching_advance(request_id=request.id)
    assert [o.wave for o in live_offers(request)] == [3]
    assert ServiceRequest.objects.get(id=request.id).status == Status.OFFERED
    expire_all(request)
    matching_advance(request_id=request.id)

    state.refresh_from_db()
    assert (state.needs_person, state.escalated_to_id) == (NeedsPerson.ESCALATED, org["centre"].id)
    assert notified(request, Kind.MATCH_ESCALATED) == sorted([cast.staff_a.id, cast.dispatcher.id])


def test_team_mode_stores_the_team_for_the_team_step(db, cast, org):
    team = team_create(
        actor=cast.station_staff_a1, node=org["station_a1"], name="太平庄村志愿服务队", kind=TeamKind.SPECIALTY
    )
    request = directed_request(cast, org)

    dispatch_mode_set(request=request, actor=cast.staff_a, mode=DispatchMode.TEAM, team=team)

    state = MatchState.objects.get(request=request)
    assert (state.team_id, state.team_offered_by_id, state.team_offered_at) == (team.id, cast.staff_a.id, None)
    assert story(request)[-1][2:] == ("mode_changed", {"mode": "服务队派单"})
    assert pending_steps(request) == 1


@pytest.mark.parametrize("who", ["resident", "volunteer", "staff_b"])
def test_someone_outside_the_request_area_cannot_switch_it(db, cast, org, who):
    request = directed_request(cast, org)
    before = counts(request)
    with pytest.raises(NotFound):
        actor = cast.volunteer.user if who == "volunteer" else getattr(cast, who)
        dispatch_mode_set(request=request, actor=actor, mode=DispatchMode.AUTO)
    assert ServiceRequest.objects.get(id=request.id).dispatch_mode == DispatchMode.DIRECTED
    assert counts(request) == before
    assert pending_steps(request) == 0


@pytest.mark.parametrize("who", ["staff_a", "station_staff_a1", "sub_centre_staff", "dispatcher", "admin"])
def test_staff_whose_area_holds_the_request_can_switch_it(db, cast, org, who):
    request = directed_request(cast, org)
    dispatch_mode_set(request=request, actor=getattr(cast, who), mode=DispatchMode.AUTO)
    assert ServiceRequest.objects.get(id=request.id).dispatch_mode == DispatchMode.AUTO


def test_bad_input_is_refused_with_its_code_and_changes_nothing(db, cast, org):
    request = directed_request(cast, org)
    inactive = team_create(actor=cast.station_staff_a1, node=org["station_a1"], name="停用队", kind=TeamKind.CIVIC)
    inactive.is_active = False
    inactive.save(update_fields=["is_active"])
    elsewhere = team_create(actor=cast.staff_b, node=org["station_b1"], name="码头村志愿服务队", kind=TeamKind.CIVIC)
    active = team_create(actor=cast.station_staff_a1, node=org["station_a1"], name="太平庄队", kind=TeamKind.CIVIC)
    before = counts(request)
    cases: list[tuple[str, Team | None, str, str]] = [
        ("fastest", None, "invalid_mode", "请选择有效的派单方式。"),
        (DispatchMode.TEAM, None, "team_required", "请选择服务队。"),
        (DispatchMode.TEAM, inactive, "team_unavailable", "该服务队已停用或不在您的管辖范围内。"),
        (DispatchMode.TEAM, elsewhere, "team_unavailable", "该服务队已停用或不在您的管辖范围内。"),
        (DispatchMode.AUTO, active, "team_not_applicable", "只有服务队派单需要选择服务队。"),
    ]
    for mode, team, code, message in cases:
        with pytest.raises(DomainError) as refused:
            dispatch_mode_set(request=request, actor=cast.staff_a, mode=mode, team=team)
        assert (refused.value.code, str(refused.value.message)) == (code, message)
    assert counts(request) == before
    assert ServiceRequest.objects.get(id=request.id).dispatch_mode == DispatchMode.DIRECTED
    assert not MatchState.objects.filter(request=request).exists()


def test_a_request_no_longer_dispatchable_cannot_be_switched(db, cast, org):
    request = directed_request(cast, org)
    request_cancel(request=request, actor=cast.resident, reason="")
    with pytest.raises(Conflict) as refused:
        dispatch_mode_set(request=request, actor=cast.staff_a, mode=DispatchMode.AUTO)
    assert refused.value.code == "not_dispatchable"
    assert ServiceRequest.objects.get(id=request.id).dispatch_mode == DispatchMode.DIRECTED


# --- The sweep ------------------------------------------------------------------------------------


def test_the_sweep_rewrites_the_step_a_lost_message_left_behind_oldest_first(db, cast, org):
    add_volunteers(org, 3)
    lost = [queued_auto_request(cast, org) for _ in range(3)]
    Job.objects.filter(task=ADVANCE).delete()  # the steps were lost
    # Ages: the last one waited longest.
    for age, request in zip([1, 2, 3], lost, strict=True):
        ServiceRequest.objects.filter(id=request.id).update(status_changed_at=timezone.now() - timedelta(minutes=age))

    assert matching_sweep(budget=2) == 2
    assert [pending_steps(r) for r in lost] == [0, 1, 1]
    assert matching_sweep(budget=2) == 1  # the two with a pending step are not enqueued again
    assert [pending_steps(r) for r in lost] == [1, 1, 1]


def test_the_sweep_leaves_requests_that_need_nothing(db, cast, org):
    add_volunteers(org, 6)
    working = queued_auto_request(cast, org)
    matching_advance(request_id=working.id)  # live offers out
    directed = directed_request(cast, org)
    cancelled = queued_auto_request(cast, org)
    request_cancel(request=cancelled, actor=cast.resident, reason="")
    waiting = queued_auto_request(cast, org)
    MatchState.objects.create(request=waiting, needs_person=NeedsPerson.ESCALATED)
    running = queued_auto_request(cast, org)
    Job.objects.filter(task=ADVANCE).delete()
    Job.objects.create(task=ADVANCE, subject_id=running.id, state=JobState.RUNNING, run_at=timezone.now())

    assert matching_sweep() == 0
    assert [pending_steps(r) for r in (working, directed, cancelled, waiting, running)] == [0, 0, 0, 0, 0]

    # Its offers all ran out and the expiry's step was lost: swept.
    Offer.objects.filter(request=working).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert matching_sweep() == 1
    assert pending_steps(working) == 1


# --- What staff see -------------------------------------------------------------------------------


def test_match_summary_tells_the_waves_and_who_answered_how(db, cast, org, settings):
    settings.MATCHING_WAVE_FACTOR = 2
    add_volunteers(org, 6)
    request = queued_auto_request(cast, org)
    matching_advance(request_id=request.id)
    first = live_offers(request)
    offer_decline(offer=first[0], volunteer=first[0].volunteer, reason="")
    Offer.objects.filter(id=first[1].id).update(expires_at=timezone.now() - timedelta(seconds=1))
    matching_advance(request_id=request.id)  # the lapsed offer counts as ended: wave 2
    second = [o for o in live_offers(request) if o.wave == 2]
    assert len(second) == 2

    summary = match_summary(request)

    def who(offer: Offer) -> str:
        return f"{offer.volunteer.user.masked_name}（{offer.volunteer.volunteer_number}）"

    state = MatchState.objects.get(request=request)
    assert [(w["number"], w["offered"], w["declined"], w["expired"], w["waiting"]) for w in summary["waves"]] == [
        (1, 2, [who(first[0])], [who(first[1])], []),
        (2, 2, [], [], [who(o) for o in second]),
    ]
    assert summary["waves"][1]["due_at"] == second[0].expires_at
    assert (summary["next_wave_at"], summary["needs_person"], summary["escalated_to"], summary["mode"]) == (
        state.next_wave_at,
        "",
        "",
        "auto",
    )


def test_match_summary_of_an_escalated_request_says_why_and_where(db, org, settings):
    resident = make_user(name="王秀兰")
    staff = make_user(name="钱所长", staff_node=org["office_a"])
    org["category"].default_dispatch_mode = DispatchMode.AUTO
    org["category"].save()
    request = submit_request(requester=resident, category=org["category"], village=org["village_a1"])
    request_review(request=request, actor=staff, accept=True)
    matching_advance(request_id=request.id)

    summary = match_summary(request)

    assert (summary["waves"], summary["needs_person"], summary["escalated_to"], summary["next_wave_at"]) == (
        [],
        "no_candidates",
        "桃园街道新时代文明实践所",
        None,
    )
    assert summary["needs_person_display"] == "无合适志愿者"


def test_split_queue_groups_requests_needing_a_person_apart_from_the_queue_at_work(db, cast, org):
    add_volunteers(org, 3)
    working = queued_auto_request(cast, org)
    escalated = queued_auto_request(cast, org)
    MatchState.objects.create(request=escalated, needs_person=NeedsPerson.ESCALATED)
    declined = queued_auto_request(cast, org)
    MatchState.objects.create(request=declined, needs_person=NeedsPerson.TEAM_DECLINED)
    directed = directed_request(cast, org)
    cancelled = queued_auto_request(cast, org)
    MatchState.objects.create(request=cancelled, needs_person=NeedsPerson.NO_CANDIDATES)
    request_cancel(request=cancelled, actor=cast.resident, reason="")

    groups = split_queue(ServiceRequest.objects.all())

    assert sorted(groups.needs_person.values_list("id", flat=True)) == sorted([escalated.id, declined.id])
    assert list(groups.working.values_list("id", flat=True)) == [working.id]
    assert list(groups.directed.values_list("id", flat=True)) == [directed.id]


def test_the_sweep_takes_broadcast_and_team_requests_only_until_they_are_announced(db, cast, org):
    announced: list[ServiceRequest] = []
    unannounced: list[ServiceRequest] = []
    for mode, field in ((DispatchMode.BROADCAST, "broadcast_at"), (DispatchMode.TEAM, "team_offered_at")):
        for done in (True, False):
            request = directed_request(cast, org)
            ServiceRequest.objects.filter(id=request.id).update(dispatch_mode=mode)
            MatchState.objects.create(request=request, **{field: timezone.now() if done else None})
            (announced if done else unannounced).append(request)

    assert matching_sweep() == 2
    assert [pending_steps(r) for r in unannounced] == [1, 1]
    assert [pending_steps(r) for r in announced] == [0, 0]
