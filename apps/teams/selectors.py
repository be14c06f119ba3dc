"""Reads of teams and memberships, already scoped to the reader.

Who sees what:

=============================  ===============================================================
staff (``area_of``)            the teams of their area: a station its village's, an office its
                               township's and its stations', a sub-centre those serving its
                               fields, the centre and admins every team; and all their members
team leader / team admin       their team and its members (masked names, numbers, masked phones)
plain member                   the team and its leaders; not the other members
volunteer                      the teams they may join (city-wide ones, their township office's
                               and their village station's) and those they have a membership in
anyone else                    no team (404)
=============================  ===============================================================

No one sees a member's ID number here; phones only masked."""

from django.db.models import Case, IntegerField, Prefetch, Q, QuerySet, Value, When

from apps.accounts.areas import area_of
from apps.accounts.models import User
from apps.core.errors import NotFound
from apps.organisation.models import OrgNode
from apps.volunteers.models import ApplicationStatus, VolunteerProfile

from .models import LIVE_STATUSES, MANAGING_ROLES, TEAM_NODE_KINDS, MembershipStatus, Team, TeamMembership

# Leaders first, then admins, then members.
ROLE_RANK = Case(
    When(role="leader", then=Value(0)),
    When(role="admin", then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)
# Members, then invitations, then applications.
STATUS_RANK = Case(
    When(status="active", then=Value(0)),
    When(status="invited", then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)


def node_places(node: OrgNode) -> tuple[int | None, int | None]:
    """(township id, village id) of a team at ``node``: a station's village and its township, an
    office's township, nothing for the centre and the sub-centres (city-wide)."""
    if node.kind == OrgNode.Kind.VILLAGE_STATION and node.place is not None:
        return node.place.parent_id, node.place_id
    if node.kind == OrgNode.Kind.TOWNSHIP_OFFICE and node.place_id is not None:
        return node.place_id, None
    return None, None


def staff_covers_node(*, user: User, node: OrgNode) -> bool:
    """Whether ``user`` is staff whose area holds ``node`` (to create teams there): the centre
    and admins every node, an office its own and its stations, a station its own, a sub-centre
    its own node."""
    area = area_of(user)
    if area.whole_city:
        return True
    if area.is_empty:
        return False
    if area.category_ids is not None:
        return bool(node.id == user.staff_node_id)
    township_id, village_id = node_places(node)
    return township_id is not None and area.covers_place(township_id=township_id, village_id=village_id)


def teams_in_area(*, user: User) -> QuerySet[Team]:
    """The teams of a staff member's area (none for anyone else)."""
    return area_of(user).filter(
        Team.objects.all(), township="township", village="village", category="categories", category_is_many=True
    )


def _approved_profile(user: User) -> VolunteerProfile | None:
    profile: VolunteerProfile | None = getattr(user, "volunteer_profile", None)
    if profile is None or profile.status != ApplicationStatus.APPROVED:
        return None
    return profile


def joinable_q(profile: VolunteerProfile) -> Q:
    """Teams a volunteer may apply to: active, and city-wide, of their township office, or of
    their village station."""
    return Q(is_active=True) & (
        Q(township__isnull=True)
        | Q(township_id=profile.home_township_id, village__isnull=True)
        | Q(township_id=profile.home_township_id, village_id=profile.home_village_id)
    )


def teams_joinable_by(*, profile: VolunteerProfile) -> QuerySet[Team]:
    return Team.objects.filter(joinable_q(profile))


def teams_visible_to(*, user: User) -> QuerySet[Team]:
    """Every team ``user`` may see (see the module's table)."""
    area = area_of(user)
    if area.whole_city:
        return Team.objects.all()
    condition = Q(pk__in=teams_in_area(user=user).values("pk")) if not area.is_empty else Q(pk__in=[])
    profile: VolunteerProfile | None = getattr(user, "volunteer_profile", None)
    if profile is not None:
        condition |= Q(pk__in=TeamMembership.objects.filter(volunteer=profile).values("team_id"))
        if profile.status == ApplicationStatus.APPROVED:
            condition |= joinable_q(profile)
    return Team.objects.filter(condition)


def teams_led_by(*, user: User) -> QuerySet[Team]:
    """Teams ``user`` leads or administers (an active membership as leader or admin)."""
    return Team.objects.filter(
        memberships__volunteer__user=user,
        memberships__status=MembershipStatus.ACTIVE,
        memberships__role__in=MANAGING_ROLES,
    )


def is_team_leader(*, user: User) -> bool:
    """Whether ``user`` leads or administers any team (pages show the team tools then)."""
    return user.is_authenticated and teams_led_by(user=user).exists()


def managed_team_ids(*, user: User) -> set[int]:
    """Ids of the teams ``user`` manages: those they lead or administer, and, as staff, those of
    their area. Two queries at most; for lists that mark each team."""
    ids = set(teams_led_by(user=user).values_list("id", flat=True))
    if not area_of(user).is_empty:
        ids |= set(teams_in_area(user=user).values_list("id", flat=True))
    return ids


def user_manages_team(*, user: User, team: Team) -> bool:
    """Whether ``user`` may see the members of ``team`` and decide on them: its leaders and
    admins, staff whose area holds it, admins."""
    area = area_of(user)
    if area.whole_city:
        return True
    if teams_led_by(user=user).filter(id=team.id).exists():
        return True
    return not area.is_empty and teams_in_area(user=user).filter(id=team.id).exists()


def user_is_area_staff_of(*, user: User, team: Team) -> bool:
    """Whether ``user`` is staff whose area holds ``team`` (appointments are theirs alone)."""
    area = area_of(user)
    if area.whole_city:
        return True
    return not area.is_empty and teams_in_area(user=user).filter(id=team.id).exists()


def team_for(*, user: User, team_id: int) -> Team:
    """One team ``user`` may see, or NotFound."""
    team = teams_visible_to(user=user).select_related("node").filter(id=team_id).first()
    if team is None:
        raise NotFound()
    return team


def team_leaders(*, team_ids: list[int]) -> QuerySet[TeamMembership]:
    """The active leaders and admins of these teams, with their users (for masked names)."""
    return (
        TeamMembership.objects.filter(team_id__in=team_ids, status=MembershipStatus.ACTIVE, role__in=MANAGING_ROLES)
        .select_related("volunteer__user")
        .order_by("team_id", ROLE_RANK, "id")
    )


def teams_with_leaders(queryset: QuerySet[Team]) -> QuerySet[Team]:
    """``queryset`` with node, categories and leaders read in one query each (``leaders``)."""
    return queryset.select_related("node").prefetch_related(
        "categories",
        Prefetch(
            "memberships",
            queryset=TeamMembership.objects.filter(status=MembershipStatus.ACTIVE, role__in=MANAGING_ROLES)
            .select_related("volunteer__user")
            .order_by(ROLE_RANK, "id"),
            to_attr="leaders",
        ),
    )


def team_members(*, user: User, team: Team, statuses: tuple[str, ...] = LIVE_STATUSES) -> QuerySet[TeamMembership]:
    """The members of ``team`` for its managers (see :func:`user_manages_team`), or NotFound for
    anyone else, so a plain member or another team's leader learns nothing."""
    if not user_manages_team(user=user, team=team):
        raise NotFound()
    return (
        TeamMembership.objects.filter(team=team, status__in=statuses)
        .select_related("volunteer__user")
        .order_by(STATUS_RANK, ROLE_RANK, "volunteer__volunteer_number", "id")
    )


def memberships_visible_to(*, user: User) -> QuerySet[TeamMembership]:
    """Memberships ``user`` may see: their own, and those of every team they manage."""
    condition = Q(volunteer__user=user) | Q(team__in=teams_led_by(user=user).values("pk"))
    area = area_of(user)
    if area.whole_city:
        condition = Q(pk__isnull=False)
    elif not area.is_empty:
        condition |= Q(team__in=teams_in_area(user=user).values("pk"))
    return TeamMembership.objects.filter(condition).select_related("team", "volunteer__user")


def membership_for(*, user: User, membership_id: int) -> TeamMembership:
    membership = memberships_visible_to(user=user).filter(id=membership_id).first()
    if membership is None:
        raise NotFound()
    return membership


def memberships_of(*, user: User) -> QuerySet[TeamMembership]:
    """The user's own memberships, newest first, with their teams."""
    return (
        TeamMembership.objects.filter(volunteer__user=user)
        .select_related("team", "team__node")
        .order_by("-status_changed_at", "-id")
    )


def nodes_for_team_create(*, user: User) -> QuerySet[OrgNode]:
    """The nodes where ``user`` may create a team (see :func:`staff_covers_node`), in tree order."""
    nodes: QuerySet[OrgNode] = OrgNode.objects.filter(kind__in=TEAM_NODE_KINDS).select_related("place").order_by("path")
    area = area_of(user)
    if area.whole_city:
        return nodes
    node = user.staff_node
    if area.is_empty or node is None:
        return nodes.none()
    if node.kind == OrgNode.Kind.TOWNSHIP_OFFICE:
        return nodes.filter(path__startswith=node.path)
    return nodes.filter(id=node.id)
