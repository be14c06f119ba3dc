"""Every write of teams and memberships. Each step of a membership is a conditional UPDATE (the
transition machine) with one event row, and a notification to the person it concerns.

Who may do what:

- create a team: staff whose area holds the node (``staff_covers_node``), admins;
- apply, accept or decline an invitation, leave: the volunteer themselves;
- approve, reject, invite, remove a member: the team's leaders and admins, staff of its area;
  removing a leader or an admin, and appointing them, is for staff of the area alone.
"""

from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.accounts.models import User
from apps.core.errors import Conflict, DomainError, Forbidden, NotFound
from apps.core.reasons import Reason, source_text
from apps.notifications.models import Kind
from apps.notifications.services import notify
from apps.organisation.models import OrgNode, ServiceCategory
from apps.volunteers.models import ApplicationStatus, VolunteerProfile

from .models import (
    LIVE_STATUSES,
    MANAGING_ROLES,
    MEMBERSHIP_MACHINE,
    TEAM_NODE_KINDS,
    MemberRole,
    MembershipStatus,
    Team,
    TeamKind,
    TeamMembership,
    TeamMembershipEvent,
)
from .selectors import (
    joinable_q,
    node_places,
    staff_covers_node,
    user_is_area_staff_of,
    user_manages_team,
)

REASON_MAX = 200
# What the volunteer did with an invitation, as stored in the notification (source text).
ANSWER_ACCEPTED = gettext_lazy("接受了")
ANSWER_DECLINED = gettext_lazy("婉拒了")


def _expect(membership: TeamMembership, *statuses: str) -> None:
    """Refuse a step the membership's status does not allow (``illegal_transition``, 409) before
    the move, whose conditional UPDATE then only catches a lost race (``stale_status``)."""
    if membership.status not in statuses:
        raise Conflict(
            _("该入队记录当前状态为「%(status)s」，不能进行此操作。")
            % {"status": MembershipStatus(membership.status).label},
            code="illegal_transition",
        )


def _team_link(team: Team) -> str:
    return reverse("teams:team_detail", args=[team.id])


def _my_teams_link() -> str:
    return reverse("teams:my_teams")


def _require_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("请填写原因。"), code="reason_required")
    if len(reason) > REASON_MAX:
        raise DomainError(_("原因不能超过%(max)d个字。") % {"max": REASON_MAX}, code="reason_too_long")
    return reason


def _managers_to_tell(team: Team) -> list[int]:
    """Who hears of a team's applications: its leaders and admins, or, while it has none, the
    staff of its node."""
    leaders = list(
        TeamMembership.objects.filter(team=team, status=MembershipStatus.ACTIVE, role__in=MANAGING_ROLES).values_list(
            "volunteer__user_id", flat=True
        )
    )
    if leaders:
        return sorted(set(leaders))
    return sorted(User.objects.filter(staff_node_id=team.node_id, is_active=True).values_list("id", flat=True))


def _require_manager(*, team: Team, actor: User) -> None:
    if not user_manages_team(user=actor, team=team):
        raise NotFound()


def _approved(volunteer: VolunteerProfile) -> None:
    if volunteer.status != ApplicationStatus.APPROVED or not volunteer.user.is_active:
        raise DomainError(_("只有通过实名审核的志愿者才能加入服务队。"), code="not_registered")


def _live_conflict(existing: TeamMembership) -> Conflict:
    if existing.status == MembershipStatus.ACTIVE:
        return Conflict(_("该志愿者已是本队队员。"), code="already_member")
    if existing.status == MembershipStatus.PENDING:
        return Conflict(_("已申请加入本队，请等待审核。"), code="already_applied")
    return Conflict(_("已收到本队的邀请，请先答复邀请。"), code="already_invited")


def _create_membership(
    *, team: Team, volunteer: VolunteerProfile, status: str, actor: User, invited_by: User | None = None
) -> TeamMembership:
    existing = TeamMembership.objects.filter(team=team, volunteer=volunteer, status__in=LIVE_STATUSES).first()
    if existing is not None:
        raise _live_conflict(existing)
    try:
        with transaction.atomic():
            membership = TeamMembership.objects.create(
                team=team, volunteer=volunteer, status=status, invited_by=invited_by
            )
    except IntegrityError:
        # Another request created the live row between the check and the insert.
        existing = TeamMembership.objects.filter(team=team, volunteer=volunteer, status__in=LIVE_STATUSES).first()
        raise (
            _live_conflict(existing) if existing is not None else Conflict(_("请刷新后重试。"), code="stale_status")
        ) from None
    MEMBERSHIP_MACHINE.record_created([membership], actor=actor)
    return membership


def team_create(
    *,
    actor: User,
    node: OrgNode,
    name: str,
    kind: str,
    categories: Iterable[ServiceCategory] = (),
    description: str = "",
) -> Team:
    """Create a team at ``node``. Staff whose area holds the node (and admins) only; the name is
    unique within the node. A team at a sub-centre serves that sub-centre's fields unless other
    categories are given, so the sub-centre sees it in its area."""
    name = (name or "").strip()
    if not name:
        raise DomainError(_("请填写队名。"), code="name_required")
    if kind not in TeamKind.values:
        raise DomainError(_("服务队类型无效。"), code="invalid_kind")
    if node.kind not in TEAM_NODE_KINDS:
        raise DomainError(_("服务队只能设在中心、分中心、实践所或实践站。"), code="invalid_node")
    if not staff_covers_node(user=actor, node=node):
        raise NotFound()
    chosen = list(categories)
    if not chosen and node.kind == OrgNode.Kind.SUB_CENTRE:
        chosen = list(ServiceCategory.objects.filter(sub_centre=node))
    township_id, village_id = node_places(node)
    with transaction.atomic():
        if Team.objects.filter(node=node, name=name).exists():
            raise Conflict(_("该阵地已有同名服务队。"), code="duplicate_name")
        try:
            with transaction.atomic():
                team = Team.objects.create(
                    name=name,
                    node=node,
                    township_id=township_id,
                    village_id=village_id,
                    kind=kind,
                    description=(description or "").strip(),
                    created_by=actor,
                )
        except IntegrityError:
            raise Conflict(_("该阵地已有同名服务队。"), code="duplicate_name") from None
        team.categories.set(chosen)
    return team


def membership_apply(*, team: Team, volunteer: VolunteerProfile) -> TeamMembership:
    """The volunteer applies to join ``team`` (status pending). Approved volunteers only, to an
    active team they may join (city-wide, their township's or their village's). Tells the
    team's leaders and admins (or, without any, its node's staff)."""
    _approved(volunteer)
    if not Team.objects.filter(joinable_q(volunteer), id=team.id).exists():
        if not team.is_active:
            raise Conflict(_("该服务队已停用。"), code="team_inactive")
        raise NotFound()
    with transaction.atomic():
        membership = _create_membership(
            team=team, volunteer=volunteer, status=MembershipStatus.PENDING, actor=volunteer.user
        )
        notify(
            recipient_ids=_managers_to_tell(team),
            kind=Kind.TEAM_JOIN_REQUESTED,
            params={"volunteer": volunteer.user.masked_name, "team": team.name},
            link=_team_link(team),
        )
    return membership


def membership_approve(*, membership: TeamMembership, actor: User) -> TeamMembership:
    """A leader, admin or area staff member approves an application: pending → active."""
    team = membership.team
    _require_manager(team=team, actor=actor)
    _expect(membership, MembershipStatus.PENDING)
    with transaction.atomic():
        MEMBERSHIP_MACHINE.move(
            membership,
            to=MembershipStatus.ACTIVE,
            actor=actor,
            expected=MembershipStatus.PENDING,
            decided_by=actor,
            joined_at=timezone.now(),
        )
        notify(
            recipient_ids=[membership.volunteer.user_id],
            kind=Kind.TEAM_JOIN_APPROVED,
            params={"team": team.name},
            link=_team_link(team),
        )
    return membership


def membership_reject(*, membership: TeamMembership, actor: User, reason: str) -> TeamMembership:
    """A leader, admin or area staff member rejects an application with a reason the volunteer
    reads: pending → rejected."""
    team = membership.team
    _require_manager(team=team, actor=actor)
    reason = _require_reason(reason)
    _expect(membership, MembershipStatus.PENDING)
    with transaction.atomic():
        MEMBERSHIP_MACHINE.move(
            membership,
            to=MembershipStatus.REJECTED,
            actor=actor,
            reason=Reason.typed(reason),
            expected=MembershipStatus.PENDING,
            decided_by=actor,
            decision_reason=reason,
        )
        notify(
            recipient_ids=[membership.volunteer.user_id],
            kind=Kind.TEAM_JOIN_REJECTED,
            params={"team": team.name, **Reason.typed(reason).as_params()},
            link=_my_teams_link(),
        )
    return membership


def find_volunteer_by_number(number: str) -> VolunteerProfile:
    """The registered volunteer with this platform number (``ZZV…``, any case, spaces ignored).
    An unknown number and one whose registration is not approved get the same answer, which
    names no one."""
    normalised = "".join((number or "").split()).upper()
    if not normalised:
        raise DomainError(_("请填写志愿者编号。"), code="number_required")
    volunteer = (
        VolunteerProfile.objects.select_related("user")
        .filter(volunteer_number=normalised, status=ApplicationStatus.APPROVED, user__is_active=True)
        .first()
    )
    if volunteer is None:
        raise DomainError(
            _("未找到编号为 %(number)s 的已注册志愿者。") % {"number": normalised[:20]}, code="unknown_volunteer"
        )
    return volunteer


def membership_invite(*, team: Team, actor: User, volunteer_number: str) -> TeamMembership:
    """A leader, admin or area staff member invites a registered volunteer by platform number
    (status invited); the volunteer is told and accepts or declines (Art. 25: no one is put in
    a team without their consent)."""
    _require_manager(team=team, actor=actor)
    if not team.is_active:
        raise Conflict(_("该服务队已停用。"), code="team_inactive")
    volunteer = find_volunteer_by_number(volunteer_number)
    with transaction.atomic():
        membership = _create_membership(
            team=team, volunteer=volunteer, status=MembershipStatus.INVITED, actor=actor, invited_by=actor
        )
        notify(
            recipient_ids=[volunteer.user_id],
            kind=Kind.TEAM_INVITED,
            params={"team": team.name},
            link=_my_teams_link(),
        )
    return membership


def _own(membership: TeamMembership, volunteer: VolunteerProfile) -> None:
    if membership.volunteer_id != volunteer.id:
        raise Forbidden(_("只有志愿者本人可以操作。"))


def _answer_invitation(*, membership: TeamMembership, volunteer: VolunteerProfile, accept: bool) -> TeamMembership:
    _own(membership, volunteer)
    _expect(membership, MembershipStatus.INVITED)
    team = membership.team
    updates: dict[str, Any] = {"joined_at": timezone.now()} if accept else {}
    with transaction.atomic():
        MEMBERSHIP_MACHINE.move(
            membership,
            to=MembershipStatus.ACTIVE if accept else MembershipStatus.DECLINED,
            actor=volunteer.user,
            expected=MembershipStatus.INVITED,
            **updates,
        )
        recipients = set(_managers_to_tell(team))
        if membership.invited_by_id is not None:
            recipients.add(membership.invited_by_id)
        recipients.discard(volunteer.user_id)
        notify(
            recipient_ids=sorted(recipients),
            kind=Kind.TEAM_INVITE_ANSWERED,
            params={
                "volunteer": volunteer.user.masked_name,
                "answer": source_text(ANSWER_ACCEPTED if accept else ANSWER_DECLINED),
                "team": team.name,
            },
            link=_team_link(team),
        )
    return membership


def invite_accept(*, membership: TeamMembership, volunteer: VolunteerProfile) -> TeamMembership:
    """The invited volunteer accepts: invited → active. Tells the inviter and the team's leaders."""
    return _answer_invitation(membership=membership, volunteer=volunteer, accept=True)


def invite_decline(*, membership: TeamMembership, volunteer: VolunteerProfile) -> TeamMembership:
    """The invited volunteer declines: invited → declined. Tells the inviter and the team's leaders."""
    return _answer_invitation(membership=membership, volunteer=volunteer, accept=False)


def membership_remove(*, membership: TeamMembership, actor: User, reason: str) -> TeamMembership:
    """A leader, admin or area staff member removes a member with a reason the volunteer reads:
    active → removed. Leaders and admins are removed by staff of the area only; no one removes
    themselves (they leave)."""
    team = membership.team
    _require_manager(team=team, actor=actor)
    reason = _require_reason(reason)
    if membership.volunteer.user_id == actor.id:
        raise Forbidden(_("不能移出自己，请使用“退出服务队”。"), code="cannot_remove_self")
    if membership.role in MANAGING_ROLES and not user_is_area_staff_of(user=actor, team=team):
        raise Forbidden(_("队长和管理员只能由工作人员移出。"), code="staff_only")
    _expect(membership, MembershipStatus.ACTIVE)
    with transaction.atomic():
        MEMBERSHIP_MACHINE.move(
            membership,
            to=MembershipStatus.REMOVED,
            actor=actor,
            reason=Reason.typed(reason),
            expected=MembershipStatus.ACTIVE,
            decided_by=actor,
            decision_reason=reason,
        )
        notify(
            recipient_ids=[membership.volunteer.user_id],
            kind=Kind.TEAM_MEMBER_REMOVED,
            params={"team": team.name, **Reason.typed(reason).as_params()},
            link=_my_teams_link(),
        )
    return membership


def membership_leave(*, membership: TeamMembership, volunteer: VolunteerProfile) -> TeamMembership:
    """The volunteer leaves the team, or withdraws an application: active or pending → left."""
    _own(membership, volunteer)
    _expect(membership, MembershipStatus.ACTIVE, MembershipStatus.PENDING)
    with transaction.atomic():
        MEMBERSHIP_MACHINE.move(membership, to=MembershipStatus.LEFT, actor=volunteer.user)
    return membership


def membership_set_role(*, membership: TeamMembership, actor: User, role: str) -> TeamMembership:
    """Staff of the team's area appoint an active member leader or admin, or make them a plain
    member again. The status stays active; the role change is an event row of its own."""
    team = membership.team
    if not user_is_area_staff_of(user=actor, team=team):
        if user_manages_team(user=actor, team=team):
            raise Forbidden(_("队长和管理员由工作人员任命。"), code="staff_only")
        raise NotFound()
    if role not in MemberRole.values:
        raise DomainError(_("角色无效。"), code="invalid_role")
    if membership.status != MembershipStatus.ACTIVE:
        raise Conflict(_("该志愿者还不是本队队员，请先邀请其入队。"), code="not_member")
    if membership.role == role:
        return membership
    with transaction.atomic():
        changed = TeamMembership.objects.filter(
            id=membership.id, status=MembershipStatus.ACTIVE, role=membership.role
        ).update(role=role)
        if not changed:
            raise Conflict(str(MEMBERSHIP_MACHINE.stale_message), code="stale_status")
        TeamMembershipEvent.objects.create(
            membership=membership,
            from_status=MembershipStatus.ACTIVE,
            to_status=MembershipStatus.ACTIVE,
            from_role=membership.role,
            to_role=role,
            actor=actor,
        )
    membership.role = role
    return membership


def membership_appoint(*, team: Team, actor: User, volunteer_number: str, role: str) -> TeamMembership:
    """:func:`membership_set_role` for the active member of ``team`` with this platform number."""
    if not user_is_area_staff_of(user=actor, team=team):
        raise NotFound()
    volunteer = find_volunteer_by_number(volunteer_number)
    membership = (
        TeamMembership.objects.select_related("team", "volunteer__user")
        .filter(team=team, volunteer=volunteer, status=MembershipStatus.ACTIVE)
        .first()
    )
    if membership is None:
        raise Conflict(_("该志愿者还不是本队队员，请先邀请其入队。"), code="not_member")
    return membership_set_role(membership=membership, actor=actor, role=role)
