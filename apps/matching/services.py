"""The matching queue's engine: one idempotent step per request (``matching_advance``), the
staff's switch of dispatch mode, and the beat sweep that finds requests a lost step left behind.

Auto mode, step by step (every step holds the request's lock, so two workers advancing the same
request queue behind each other and the second finds nothing to do):

- while the live offers (offered, not expired) can still fill the open places, nothing happens;
- once they cannot (a decline, an expiry or a release left fewer live offers than places), the
  next wave goes out at once: offers to the next best candidates, topping the live offers up to
  places × ``MATCHING_WAVE_FACTOR``; a :class:`MatchWave` row, unique per request and number,
  is written first, so a duplicate step fails on the constraint instead of offering twice;
- after ``MATCHING_MAX_WAVES`` waves at one reach, or with no candidates left, the reach widens
  once by ``MATCHING_WIDEN_KM``; after as many waves more (or no candidates again), the request
  escalates to the parent node of its station (station → township office → centre), whose
  staff are told; the queue then leaves it to a person until staff switch the mode again.
"""

from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.areas import centre_dispatchers
from apps.accounts.models import User
from apps.core.errors import Conflict, DomainError, NotFound
from apps.core.reasons import Reason, source_text
from apps.dispatch.models import Offer, OfferStatus
from apps.dispatch.services import offers_send
from apps.jobs.models import Job, JobState
from apps.jobs.services import job_enqueue
from apps.notifications.models import Kind
from apps.organisation.models import DispatchMode, OrgNode
from apps.service_requests import services as request_services
from apps.service_requests.models import DISPATCHABLE, ServiceRequest, Status
from apps.service_requests.selectors import user_manages_request
from apps.teams.models import Team
from apps.teams.selectors import user_is_area_staff_of
from apps.volunteers.matchable import matchable_refresh
from apps.volunteers.models import VolunteerProfile

from . import broadcast, team_dispatch
from .models import MatchState, MatchWave, NeedsPerson
from .selectors import ranked_volunteers

QUEUE_MODES = (DispatchMode.AUTO, DispatchMode.BROADCAST, DispatchMode.TEAM)
# The beat sweep re-enqueues at most this many requests per run, oldest first.
SWEEP_BUDGET = 500


def matching_advance(*, request_id: int) -> None:
    """Take the next step for one request, by its dispatch mode. Idempotent: a step asked twice,
    or by two workers at once, does the work once (the request's lock, then the wave's unique
    number). A request that is no longer dispatchable, is directed, or needs a person is left
    alone. Side effects (auto mode): a wave of offers, a widened reach or an escalation, each
    with its events and notifications."""
    with transaction.atomic():
        try:
            request = request_services.request_lock(request_id=request_id)
        except NotFound:
            return  # deleted since the job was written
        if request.dispatch_mode == DispatchMode.DIRECTED or not request.can_be_dispatched:
            return
        state, _created = MatchState.objects.get_or_create(request=request)
        if state.needs_person:
            return
        if request.dispatch_mode == DispatchMode.AUTO:
            _auto_advance(request, state)
        elif request.dispatch_mode == DispatchMode.BROADCAST:
            _delegate(broadcast, "broadcast_advance", state, request)
        elif request.dispatch_mode == DispatchMode.TEAM:
            _delegate(team_dispatch, "team_advance", state, request)


def _delegate(module: object, name: str, state: MatchState, request: ServiceRequest) -> None:
    step: Callable[[MatchState, ServiceRequest], object] | None = getattr(module, name, None)
    if step is not None:
        step(state, request)


def _live_offers(request: ServiceRequest, now: datetime) -> int:
    return Offer.objects.filter(request=request, status=OfferStatus.OFFERED, expires_at__gt=now).count()


def _auto_advance(request: ServiceRequest, state: MatchState) -> None:
    now = timezone.now()
    places = request.volunteers_needed - request.volunteers_accepted
    live = _live_offers(request, now)
    if live >= places:
        return  # the offers out can still fill every place
    if state.waves_at_this_reach >= settings.MATCHING_MAX_WAVES:
        if state.widened:
            if live == 0:
                _escalate(request, state, why=NeedsPerson.ESCALATED)
            return
        _widen(request, state)
    wanted = places * settings.MATCHING_WAVE_FACTOR - live
    volunteers = _next_candidates(request, state, wanted)
    if not volunteers and not state.widened:
        _widen(request, state)
        volunteers = _next_candidates(request, state, wanted)
    if not volunteers:
        if live == 0:
            # Nobody at all, ever: a person must find someone; else the waves found no taker.
            why = NeedsPerson.NO_CANDIDATES if state.waves_sent == 0 else NeedsPerson.ESCALATED
            _escalate(request, state, why=why)
        return
    _send_wave(request, state, volunteers)


def _extra_km(state: MatchState) -> int:
    return settings.MATCHING_WIDEN_KM if state.widened else 0


def _next_candidates(request: ServiceRequest, state: MatchState, wanted: int) -> list[VolunteerProfile]:
    """The next ``wanted`` best candidates (the ranking without the reasons, which only pages
    show), as profiles. The ranking's hard filters already leave out everyone asked before and
    anyone who may not receive offers, and ``offers_send`` refuses both again under the lock."""
    ids = list(ranked_volunteers(request=request, extra_km=_extra_km(state)).values_list("pk", flat=True)[:wanted])
    profiles = (
        VolunteerProfile.objects.select_related("user")
        .defer("id_number", "emergency_contact_phone", "guardian_phone")
        .in_bulk(ids)
    )
    chosen = [profiles[volunteer_id] for volunteer_id in ids if volunteer_id in profiles]
    stale = {v.id for v in chosen if not v.can_receive_offers}
    if stale:
        # Their matchable rows had not yet caught up with a change (one made outside the
        # services reaches them within MATCHABLE_REFRESH_SECONDS): rewritten now, and left out
        # of this wave rather than failing it.
        matchable_refresh(volunteer_ids=stale)
    return [v for v in chosen if v.id not in stale]


def _send_wave(request: ServiceRequest, state: MatchState, volunteers: list[VolunteerProfile]) -> None:
    number = state.waves_sent + 1
    try:
        # One savepoint for the wave and its offers: if another worker already sent this
        # wave, the unique (request, number) refuses it and nothing of ours is kept.
        with transaction.atomic():
            wave = MatchWave.objects.create(
                request=request,
                number=number,
                offered=len(volunteers),
                radius_extra_km=_extra_km(state),
                due_at=timezone.now(),
            )
            offers = offers_send(
                request=request,
                volunteers=volunteers,
                actor=None,
                via=DispatchMode.AUTO,
                wave=number,
                reason=Reason.system("wave_sent", wave=number, n=len(volunteers)),
            )
    except IntegrityError:
        return
    due = offers[0].expires_at
    MatchWave.objects.filter(id=wave.id).update(due_at=due)
    state.waves_sent = number
    state.waves_at_this_reach += 1
    state.next_wave_at = due
    state.save(update_fields=["waves_sent", "waves_at_this_reach", "next_wave_at", "updated_at"])


def _widen(request: ServiceRequest, state: MatchState) -> None:
    state.widened = True
    state.waves_at_this_reach = 0
    state.save(update_fields=["widened", "waves_at_this_reach", "updated_at"])
    request_services.request_note(
        request=request, actor=None, reason=Reason.system("reach_widened", km=settings.MATCHING_WIDEN_KM)
    )


def _parent_node(request: ServiceRequest, state: MatchState) -> OrgNode | None:
    """Where the next escalation goes: above the node it last went to, else above the station."""
    below = state.escalated_to or request.station
    parent: OrgNode | None = OrgNode.objects.get_parent(below)
    return parent


def _node_staff_ids(node: OrgNode | None) -> list[int]:
    if node is None or node.kind == OrgNode.Kind.CENTRE:
        return list(centre_dispatchers().values_list("id", flat=True))
    return list(User.objects.filter(is_active=True, staff_node=node).values_list("id", flat=True))


def _escalate(request: ServiceRequest, state: MatchState, *, why: str) -> None:
    """Hand the request to a person: the parent node's staff (and, with no candidates at all,
    the station's). The queue leaves it alone from here until staff switch the mode again."""
    parent = _parent_node(request, state)
    cause = Reason.system("no_candidates" if why == NeedsPerson.NO_CANDIDATES else "no_takers")
    node_name = parent.name if parent is not None else _("中心")
    request_services.request_note(request=request, actor=None, reason=cause)
    escalated = Reason.system("escalated_to_parent", node=node_name)
    if request.status == Status.ESCALATED:
        request_services.request_note(request=request, actor=None, reason=escalated)
    else:
        request_services.transition(request=request, to_status=Status.ESCALATED, actor=None, reason=escalated)
    state.needs_person = why
    state.escalated_to = parent
    state.next_wave_at = None
    state.save(update_fields=["needs_person", "escalated_to", "next_wave_at", "updated_at"])
    request_services.tell_staff(
        request, Kind.MATCH_ESCALATED, recipient_ids=_node_staff_ids(parent), node=node_name, **cause.as_params()
    )
    if why == NeedsPerson.NO_CANDIDATES:
        request_services.tell_staff(
            request,
            Kind.NEEDS_PERSON,
            recipient_ids=User.objects.filter(is_active=True, staff_node_id=request.station_id).values_list(
                "id", flat=True
            ),
            **cause.as_params(),
        )


def dispatch_mode_set(*, request: ServiceRequest, actor: User, mode: str, team: Team | None = None) -> ServiceRequest:
    """Staff switch how ``request`` finds its volunteers. Preconditions: ``actor`` manages the
    request (else NotFound), it is still dispatchable (else Conflict), and for team mode ``team``
    is active and in the actor's area (else DomainError). Switching to the mode the request has
    restarts a queue that was waiting for a person.

    Side effects: the mode and a ``mode_changed`` event; the queue's "needs a person" cleared and
    its wave budget at this reach restarted; to directed the queue stops sending (offers already
    out stay), to any other mode the queue's next step is written as a job."""
    if mode not in DispatchMode.values:
        raise DomainError(_("请选择有效的派单方式。"), code="invalid_mode")
    if not user_manages_request(user=actor, request=request):
        raise NotFound()
    if mode == DispatchMode.TEAM:
        if team is None:
            raise DomainError(_("请选择服务队。"), code="team_required")
        if not team.is_active or not user_is_area_staff_of(user=actor, team=team):
            raise DomainError(_("该服务队已停用或不在您的管辖范围内。"), code="team_unavailable")
    elif team is not None:
        raise DomainError(_("只有服务队派单需要选择服务队。"), code="team_not_applicable")
    with transaction.atomic():
        locked = request_services.request_lock(request_id=request.id)
        if not locked.can_be_dispatched:
            raise Conflict(
                _("工单当前状态为「%(status)s」，不能派单。") % {"status": locked.get_status_display()},
                code="not_dispatchable",
            )
        state, _created = MatchState.objects.select_for_update().get_or_create(request=locked)
        same = locked.dispatch_mode == mode and (mode != DispatchMode.TEAM or state.team_id == team.id)  # type: ignore[union-attr]
        if not same:
            request_services.request_set_dispatch_mode(
                request=locked,
                mode=mode,
                actor=actor,
                reason=Reason.system("mode_changed", mode=source_text(DispatchMode(mode).label)),
            )
        elif not state.needs_person:
            return locked  # nothing to change
        state.needs_person = ""
        state.waves_at_this_reach = 0
        if mode == DispatchMode.TEAM:
            assert team is not None
            state.team = team
            state.team_offered_by = actor
            state.team_offered_at = None
        state.save()
        request_services.request_needs_matching(locked)
    request.dispatch_mode = locked.dispatch_mode
    return locked


def matching_sweep(*, now: datetime | None = None, budget: int = SWEEP_BUDGET) -> int:
    """The beat sweep: requests of the queue's modes that are dispatchable, have no live offer,
    no queued or running step, and do not wait for a person (a step was lost with a worker or a
    message) get their step written again. Oldest first, at most ``budget`` per run, so a
    backlog is worked through in order and never starves anyone. Broadcast and team requests
    are swept only until they are announced (their own steps follow people, not offers).
    Returns how many were enqueued."""
    now = now or timezone.now()
    live = Offer.objects.filter(request=OuterRef("pk"), status=OfferStatus.OFFERED, expires_at__gt=now)
    step = Job.objects.filter(
        task=request_services.MATCHING_TASK,
        subject_id=OuterRef("pk"),
        state__in=[JobState.PENDING, JobState.RUNNING],
    )
    ids = list(
        ServiceRequest.objects.filter(
            dispatch_mode__in=QUEUE_MODES,
            status__in=DISPATCHABLE,
            volunteers_accepted__lt=F("volunteers_needed"),
        )
        .filter(Q(match__isnull=True) | Q(match__needs_person=""))
        .filter(~Q(dispatch_mode=DispatchMode.BROADCAST) | Q(match__broadcast_at__isnull=True))
        .filter(~Q(dispatch_mode=DispatchMode.TEAM) | Q(match__team_offered_at__isnull=True))
        .filter(~Exists(live), ~Exists(step))
        .order_by("status_changed_at", "id")
        .values_list("id", flat=True)[:budget]
    )
    with transaction.atomic():
        for request_id in ids:
            job_enqueue(request_services.MATCHING_TASK, request_id)
    return len(ids)
