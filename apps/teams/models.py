"""Volunteer service teams (志愿服务队) on the city's "8+N" model: 8 standing teams, N specialty
teams, teams of provincial/central units stationed in the city and civic groups, each belonging
to a node of the practice network. A volunteer may belong to several teams."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from apps.core.models import StatusEvent
from apps.core.transitions import StateMachine
from apps.organisation.models import OrgNode, Place, ServiceCategory
from apps.volunteers.models import VolunteerProfile

# The nodes a team may belong to (the centre's office runs the centre's daily work, not teams).
TEAM_NODE_KINDS = (
    OrgNode.Kind.CENTRE,
    OrgNode.Kind.SUB_CENTRE,
    OrgNode.Kind.TOWNSHIP_OFFICE,
    OrgNode.Kind.VILLAGE_STATION,
)


class TeamKind(models.TextChoices):
    STANDING = "standing", _("常备队")
    SPECIALTY = "specialty", _("特色队")
    UNIT = "unit", _("驻涿单位队")
    CIVIC = "civic", _("社会组织")


class Team(models.Model):
    """A team of the network. ``township`` and ``village`` are the node's places, kept on the row
    (set from the node when the team is created) so that a team is in a staff member's area by
    the same ``area_of`` rule as requests and volunteers: a station's teams are in its village,
    an office's in its township, the centre's and sub-centres' are city-wide (a sub-centre sees
    the teams that serve its fields)."""

    name = models.CharField(_("队名"), max_length=80)
    node = models.ForeignKey(OrgNode, on_delete=models.PROTECT, related_name="teams", verbose_name=_("所属阵地"))
    township = models.ForeignKey(
        Place, on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    village = models.ForeignKey(
        Place, on_delete=models.PROTECT, null=True, blank=True, related_name="+", editable=False
    )
    kind = models.CharField(_("类型"), max_length=16, choices=TeamKind.choices)
    categories = models.ManyToManyField(ServiceCategory, blank=True, related_name="teams", verbose_name=_("服务类别"))
    description = models.CharField(_("简介"), max_length=500, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("创建人"),
    )
    created_at = models.DateTimeField(_("成立时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("志愿服务队")
        verbose_name_plural = pgettext_lazy("plural", "志愿服务队")
        ordering = ["kind", "name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["node", "name"], name="team_unique_name_in_node"),
        ]
        indexes = [models.Index(fields=["township", "village"], name="team_place")]

    def __str__(self) -> str:
        return self.name

    @property
    def is_city_wide(self) -> bool:
        return self.township_id is None


class MemberRole(models.TextChoices):
    MEMBER = "member", _("队员")
    ADMIN = "admin", _("管理员")
    LEADER = "leader", _("队长")


MANAGING_ROLES = (MemberRole.LEADER, MemberRole.ADMIN)


class MembershipStatus(models.TextChoices):
    PENDING = "pending", _("申请中")
    INVITED = "invited", _("邀请中")
    ACTIVE = "active", _("在队")
    REJECTED = "rejected", _("申请未通过")
    DECLINED = "declined", _("已婉拒邀请")
    REMOVED = "removed", _("已移出")
    LEFT = "left", _("已退出")


# A membership is "live" while it holds the one place a volunteer has in a team.
LIVE_STATUSES = (MembershipStatus.PENDING, MembershipStatus.INVITED, MembershipStatus.ACTIVE)

MEMBERSHIP_TRANSITIONS: dict[str, frozenset[str]] = {
    MembershipStatus.PENDING: frozenset({MembershipStatus.ACTIVE, MembershipStatus.REJECTED, MembershipStatus.LEFT}),
    MembershipStatus.INVITED: frozenset({MembershipStatus.ACTIVE, MembershipStatus.DECLINED}),
    MembershipStatus.ACTIVE: frozenset({MembershipStatus.REMOVED, MembershipStatus.LEFT}),
    MembershipStatus.REJECTED: frozenset(),
    MembershipStatus.DECLINED: frozenset(),
    MembershipStatus.REMOVED: frozenset(),
    MembershipStatus.LEFT: frozenset(),
}


class TeamMembership(models.Model):
    """A volunteer's place in a team, from application (pending) or invitation (invited) to
    active, and how it ended. One live row per team and volunteer; ended rows stay as history,
    so a volunteer may apply again later. ``decision_reason`` is the last decision's reason as typed."""

    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("服务队"))
    volunteer = models.ForeignKey(
        VolunteerProfile, on_delete=models.PROTECT, related_name="team_memberships", verbose_name=_("志愿者")
    )
    role = models.CharField(_("角色"), max_length=8, choices=MemberRole.choices, default=MemberRole.MEMBER)
    status = models.CharField(_("状态"), max_length=10, choices=MembershipStatus.choices)
    decision_reason = models.CharField(_("原因"), max_length=200, blank=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("邀请人"),
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("处理人"),
    )
    created_at = models.DateTimeField(_("申请/邀请时间"), auto_now_add=True)
    status_changed_at = models.DateTimeField(_("状态变更时间"), auto_now_add=True)
    joined_at = models.DateTimeField(_("入队时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("队员")
        verbose_name_plural = pgettext_lazy("plural", "队员")
        ordering = ["team", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "volunteer"],
                condition=models.Q(status__in=["pending", "invited", "active"]),
                name="team_membership_one_live",
            ),
        ]
        indexes = [
            models.Index(fields=["team", "status", "role"], name="team_membership_team"),
            models.Index(fields=["volunteer", "status"], name="team_membership_volunteer"),
        ]

    def __str__(self) -> str:
        return f"{self.team_id}/{self.volunteer_id} {self.status}"

    @property
    def is_live(self) -> bool:
        return self.status in LIVE_STATUSES

    @property
    def is_manager(self) -> bool:
        return self.status == MembershipStatus.ACTIVE and self.role in MANAGING_ROLES


class TeamMembershipEvent(StatusEvent):
    """One row per step of a membership, append-only: status from → to, role from → to (an
    appointment keeps the status and changes the role), who, why, when."""

    membership = models.ForeignKey(TeamMembership, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(_("原状态"), max_length=10, choices=MembershipStatus.choices, blank=True)
    to_status = models.CharField(_("新状态"), max_length=10, choices=MembershipStatus.choices)
    from_role = models.CharField(_("原角色"), max_length=8, choices=MemberRole.choices, blank=True)
    to_role = models.CharField(_("新角色"), max_length=8, choices=MemberRole.choices, blank=True)

    class Meta(StatusEvent.Meta):
        verbose_name = _("队员记录")
        verbose_name_plural = pgettext_lazy("plural", "队员记录")
        indexes = [models.Index(fields=["membership", "created_at"], name="team_event_membership_time")]

    def __str__(self) -> str:
        return f"{self.membership_id}: {self.from_status} → {self.to_status}"


MEMBERSHIP_MACHINE: StateMachine[TeamMembership] = StateMachine(
    model=TeamMembership,
    table=MEMBERSHIP_TRANSITIONS,
    labels=MembershipStatus,
    event_model=TeamMembershipEvent,
    event_fk="membership",
    illegal_message=_("该入队记录当前状态为「%(from)s」，不能变更为「%(to)s」。"),
    stale_message=_("该入队记录已被他人处理，请刷新后重试。"),
    changed_at_field="status_changed_at",
)
