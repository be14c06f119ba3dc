"""Team dispatch: the request is offered to a team, its leader assigns members, who still accept.

Staff (or the category's default) put a request in team mode with a team (``MatchState.team``).
The queue then tells the team's leaders and admins (:func:`team_advance`). A leader picks members
among those eligible, ranked with their reasons (:func:`team_task_candidates`), and assigns them
(:func:`team_assign`): each gets an ordinary offer they accept or decline (志愿服务条例 Art. 25:
an invitation, never an order). When an assigned member declines, lets the offer lapse or
withdraws, the queue tells the leader, who assigns another; the request stays with the team until
its leader says the team cannot take it (:func:`team_decline`), which hands it to staff."""

from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.core.errors import Conflict, DomainError, NotFound
from apps.core.reasons import Reason
from apps.dispatch import services as dispatch_services
from apps.dispatch.models import Offer, OfferStatus
from apps.dispatch.selectors import offers_for_request
from apps.notifications.models import Kind, Notification
from apps.notifications.services import notify
from apps.organisation.models import DispatchMode
from apps.service_requests import services as request_services
from apps.service_requests.models import ServiceRequest, Status
from apps.teams.models import MembershipStatus, Team
from apps.teams.selectors import team_leaders, team_members, teams_led_by
from apps.volunteers.models import VolunteerProfile

from . import selectors
from .models import MatchState, NeedsPerson
from .selectors import Candidate

# A team's requests its leader sees: waiting for members, or staffed and not yet served.
LEADER_STATUSES = (Status.QUEUED, Status.OFFERED, Status.ESCALATED, Status.ACCEPTED, Status.IN_SERVICE)
# A leader's page and the API show this many team requests at most (a team has few in hand).
TEAM_TASKS_LIMIT = 30
# An assigned member's offer that ended without them serving: the leader must assign another.
ENDED_WITHOUT_SERVING = (OfferStatus.DECLINED, OfferStatus.EXPIRED, OfferStatus.RELEASED)


def team_tasks_url() -> str:
    return reverse("matching:team_tasks")


def _member_label(volunteer: VolunteerProfile) -> str:
    return f"{volunteer.user.masked_name}（{volunteer.volunteer_number}）"


def _leader_user_ids(team: Team) -> list[int]:
    return sorted({m.volunteer.user_id for m in team_leaders(team_ids=[team.id])})


# --- The queue's step -------------------------------------------------------------------------


def team_advance(state: MatchState, request: ServiceRequest) -> None:
    """The queue's step for a team request. Called by the engine inside its transaction holding
    the request's lock; idempotent.

    - The first time (``team_offered_at`` unset): ``team_offered_at`` set, a ``team_offered``
      event, the team's leaders and admins told (``TEAM_OFFERED``).
    - Afterwards: every offer the leader assigned that has since been declined, lapsed or been
      released and that the leaders were not yet told of is reported to them, once each
      (``TEAM_MEMBER_DECLINED``; the notification names the offer, which is how a later call
      knows it was reported).
    A team without a leader or admin cannot take it: the request is handed back to staff at
    once, as when a leader declines. Nothing happens once the team has declined the request (a
    person takes it on)."""
    team = state.team
    if team is None or state.needs_person == NeedsPerson.TEAM_DECLINED:
        return
    if state.team_offered_at is None:
        if not request.can_be_dispatched:
            return
        now = timezone.now()
        if not MatchState.objects.filter(pk=state.pk, team_offered_at__isnull=True).update(team_offered_at=now):
            return
        state.team_offered_at = now
        request_services.request_note(
            request=request, actor=state.team_offered_by, reason=Reason.system("team_offered", team=team.name)
        )
        leader_ids = _leader_user_ids(team)
        if not leader_ids:
            # Nobody can assign its members (no leader or admin): back to a person at once.
            _hand_back(request=request, state=state, actor=None, told=Reason.system("team_declined"))
            return
        notify(
            recipient_ids=leader_ids,
            kind=Kind.TEAM_OFFERED,
            request_id=request.id,
            params={"title": request.title, "team": team.name},
            link=team_tasks_url(),
        )
        return
    _report_ended_assignments(request=request, team=team)


def _report_ended_assignments(*, request: ServiceRequest, team: Team) -> None:
    ended = list(offers_for_request(request=request).filter(via=DispatchMode.TEAM, status__in=ENDED_WITHOUT_SERVING))
    if not ended:
        return
    # The leaders' notifications are the record of what was reported (read under the request's
    # lock, so two runs of this step cannot both report one offer).
    reported = set(
        Notification.objects.filter(request_id=request.id, kind=Kind.TEAM_MEMBER_DECLINED).values_list(
            "params__offer_id", flat=True
        )
    )
    leader_ids = _leader_user_ids(team)
    for offer in ended:
        if offer.id in reported:
            continue
        notify(
            recipient_ids=leader_ids,
            kind=Kind.TEAM_MEMBER_DECLINED,
            request_id=request.id,
            params={
                "title": request.title,
                "team": team.name,
                "volunteer": _member_label(offer.volunteer),
                "offer_id": offer.id,
            },
            link=team_tasks_url(),
        )


# --- What a leader sees -----------------------------------------------------------------------


def _team_requests(user: User) -> QuerySet[ServiceRequest]:
    return ServiceRequest.objects.filter(
        dispatch_mode=DispatchMode.TEAM,
        status__in=LEADER_STATUSES,
        match__team__in=teams_led_by(user=user).values("pk"),
        match__team_offered_at__isnull=False,
    ).exclude(match__needs_person=NeedsPerson.TEAM_DECLINED)


def team_tasks_for(*, user: User) -> QuerySet[ServiceRequest]:
    """The requests offered to the teams ``user`` leads or administers that are still in hand,
    newest first; without the resident's address and phone (a leader assigns, does not go)."""
    return (
        _team_requests(user)
        .select_related("category", "township", "village", "match__team")
        .defer("address", "contact_phone")
        .order_by("-created_at", "-id")
    )


def team_task_for(*, user: User, request_id: int) -> ServiceRequest:
    """One request of :func:`team_tasks_for`, or NotFound (another team's, or none at all)."""
    request = team_tasks_for(user=user).filter(id=request_id).first()
    if request is None:
        raise NotFound()
    return request


@dataclass
class TeamTask:
    """A team request as its leader's page and the API show it."""

    request: ServiceRequest
    team: Team
    # The team's offers on it, oldest first: who was assigned and how each answered.
    assignments: list[Offer]
    # Active members eligible now, best first, with their reasons.
    candidates: list[Candidate] = field(default_factory=list)

    @property
    def places_open(self) -> int:
        """Places neither filled nor waiting on an assigned member's answer."""
        waiting = sum(1 for o in self.assignments if o.status == OfferStatus.OFFERED and o.expires_at > timezone.now())
        return max(0, self.request.volunteers_needed - self.request.volunteers_accepted - waiting)


def _active_member_ids(*, leader: User, team: Team) -> list[int]:
    return list(
        team_members(user=leader, team=team, statuses=(MembershipStatus.ACTIVE,)).values_list("volunteer_id", flat=True)
    )


def team_task_candidates(*, request: ServiceRequest, leader: User) -> TeamTask:
    """``request`` (from :func:`team_tasks_for`) with its team's assignments and the active
    members eligible for it, ranked with their reasons."""
    team: Team = request.match.team  # type: ignore[assignment]
    assignments = list(offers_for_request(request=request).filter(via=DispatchMode.TEAM))
    member_ids = _active_member_ids(leader=leader, team=team)
    candidates = (
        selectors.rank_candidates(request=request, volunteer_ids=member_ids, limit=len(member_ids))
        if member_ids and request.can_be_dispatched
        else []
    )
    return TeamTask(request=request, team=team, assignments=assignments, candidates=candidates)


# --- What a leader does -----------------------------------------------------------------------


def _locked_team_task(*, request: ServiceRequest, leader: User) -> tuple[ServiceRequest, MatchState, Team]:
    """Lock ``request`` and check it is offered to a team ``leader`` leads (NotFound otherwise)."""
    locked = request_services.request_lock(request_id=request.id)
    state = MatchState.objects.select_related("team").filter(request=locked).first()
    team = state.team if state is not None else None
    if (
        state is None
        or team is None
        or locked.dispatch_mode != DispatchMode.TEAM
        or state.team_offered_at is None
        or state.needs_person == NeedsPerson.TEAM_DECLINED
        or locked.status not in LEADER_STATUSES
        or not teams_led_by(user=leader).filter(id=team.id).exists()
    ):
        raise NotFound()
    return locked, state, team


def _not_member(team: Team, numbers: str) -> str:
    return _("以下志愿者不是「%(team)s」的在队队员：%(numbers)s") % {"team": team.name, "numbers": numbers}


def _numbers(volunteers: list[VolunteerProfile]) -> str:
    return "、".join(v.volunteer_number or v.user.masked_name for v in volunteers)


def members_chosen(*, request: ServiceRequest, leader: User, member_ids: list[int]) -> list[VolunteerProfile]:
    """The volunteers ``leader`` ticked for ``request`` (from :func:`team_task_for`), in the
    order given: each must be an active member of the team it was offered to, or the whole
    choice is refused (``not_member``, listing the ids), so nothing is told about anyone else."""
    team: Team = request.match.team  # type: ignore[assignment]
    memberships = {
        m.volunteer_id: m.volunteer
        for m in team_members(user=leader, team=team, statuses=(MembershipStatus.ACTIVE,)).filter(
            volunteer_id__in=member_ids
        )
    }
    strangers = [str(i) for i in member_ids if i not in memberships]
    if strangers:
        raise DomainError(_not_member(team, "、".join(strangers)), code="not_member")
    return [memberships[i] for i in member_ids]


def team_assign(*, request: ServiceRequest, leader: User, members: list[VolunteerProfile]) -> list[Offer]:
    """队长派单: offer ``request`` to ``members`` of the team it was offered to. Preconditions
    (checked under the request's lock): ``leader`` leads or administers that team (NotFound
    otherwise); every member is an active member of it (``not_member``) and eligible for the
    request (``not_eligible``); no more members than places still open (``too_many``).
    Side effects: one offer each (via team, event ``team_assigned``), the members told
    (``TEAM_ASSIGNED``, naming the team). The members accept or decline as any offer."""
    if not members:
        raise DomainError(_("请至少选择一名队员。"), code="no_volunteers")
    if len({m.id for m in members}) != len(members):
        raise DomainError(_("队员不能重复。"), code="invalid")
    with transaction.atomic():
        locked, _state, team = _locked_team_task(request=request, leader=leader)
        active = set(_active_member_ids(leader=leader, team=team))
        outsiders = [m for m in members if m.id not in active]
        if outsiders:
            raise DomainError(_not_member(team, _numbers(outsiders)), code="not_member")
        eligible = set(
            selectors.eligible_volunteers(request=locked)
            .filter(pk__in=[m.id for m in members])
            .values_list("pk", flat=True)
        )
        unfit = [m for m in members if m.id not in eligible]
        if unfit:
            raise DomainError(
                _("以下队员目前不能承接这项服务（已答复过、时间冲突、暂停服务或不在服务范围内）：%(numbers)s")
                % {"numbers": _numbers(unfit)},
                code="not_eligible",
            )
        waiting = (
            offers_for_request(request=locked).filter(status=OfferStatus.OFFERED, expires_at__gt=timezone.now()).count()
        )
        open_places = max(0, locked.volunteers_needed - locked.volunteers_accepted - waiting)
        if len(members) > open_places:
            raise DomainError(
                _("这项服务目前还可安排%(n)d人，请减少人数。") % {"n": open_places},
                code="too_many",
            )
        offers = dispatch_services.offers_send(
            request=locked,
            volunteers=members,
            actor=leader,
            via=DispatchMode.TEAM,
            reason=Reason.system("team_assigned", n=len(members)),
            notice_kind=Kind.TEAM_ASSIGNED,
            notice_params={"team": team.name},
        )
    request.status = locked.status
    return offers


def team_decline(*, request: ServiceRequest, leader: User, reason: str) -> None:
    """The team cannot take ``request``: its leader says why. Preconditions: ``leader`` leads or
    administers the team it was offered to (NotFound otherwise); a reason (``reason_required``).
    Side effects: the request needs a person (``team_declined``), a ``team_declined`` event by
    the leader, the area's staff told (``NEEDS_PERSON``, with the team and the reason). Offers
    already made stay as they are; members who accepted keep their places."""
    typed = Reason.typed(reason)
    if not typed:
        raise DomainError(_("请说明服务队无法承接的原因。"), code="reason_required")
    with transaction.atomic():
        locked, state, team = _locked_team_task(request=request, leader=leader)
        if not locked.can_be_dispatched:
            message = _("工单当前状态为「%(status)s」，所需志愿者已安排好，无需退回。")
            raise Conflict(message % {"status": locked.get_status_display()}, code="not_dispatchable")
        # The team's name and the leader's words, as written: nothing here to translate.
        _hand_back(request=locked, state=state, actor=leader, told=Reason.typed(f"{team.name}：{typed.text}"))


def _hand_back(*, request: ServiceRequest, state: MatchState, actor: User | None, told: Reason) -> None:
    """The team will not take ``request``: it needs a person (``team_declined``), with an event
    and the area's staff told why."""
    MatchState.objects.filter(pk=state.pk).update(needs_person=NeedsPerson.TEAM_DECLINED)
    state.needs_person = NeedsPerson.TEAM_DECLINED
    request_services.request_note(request=request, actor=actor, reason=Reason.system("team_declined"))
    request_services.tell_staff(request, Kind.NEEDS_PERSON, **told.as_params())
