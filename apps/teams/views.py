"""Team pages: a volunteer's teams and invitations (phone), a team's page with its members for
leaders and staff (phone and PC), and the staff list of their area's teams (PC)."""

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_POST

from apps.core.errors import DomainError
from apps.core.typing import AuthenticatedHttpRequest
from apps.volunteers.models import ApplicationStatus, VolunteerProfile

from . import services
from .forms import AppointForm, InviteForm, ReasonForm, RoleForm, TeamCreateForm
from .models import LIVE_STATUSES, MembershipStatus, Team, TeamMembership
from .selectors import (
    membership_for,
    memberships_of,
    nodes_for_team_create,
    team_for,
    team_members,
    teams_in_area,
    teams_joinable_by,
    teams_led_by,
    teams_with_leaders,
    user_is_area_staff_of,
    user_manages_team,
)

MEMBERS_PAGE_SIZE = 50


def _attempt(request: HttpRequest, action: Callable[[], Any], success: str) -> bool:
    """Run a service call; show its refusal to the user instead of failing the page."""
    try:
        action()
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return False
    messages.success(request, success)
    return True


def _form_errors(request: HttpRequest, form: forms.Form) -> None:
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, str(error))


def _profile(request: AuthenticatedHttpRequest) -> VolunteerProfile | None:
    return getattr(request.user, "volunteer_profile", None)


@login_required
def my_teams(request: AuthenticatedHttpRequest) -> HttpResponse:
    """A volunteer's teams: invitations to answer, memberships, teams they lead, teams to join."""
    profile = _profile(request)
    if profile is None and request.user.is_org_staff:
        return redirect("teams:staff_teams")
    context: dict[str, Any] = {"profile": profile, "registered": False}
    if profile is not None:
        mine = list(memberships_of(user=request.user)[:50])
        live_team_ids = {m.team_id for m in mine if m.status in LIVE_STATUSES}
        context.update(
            registered=profile.status == ApplicationStatus.APPROVED,
            invitations=[m for m in mine if m.status == MembershipStatus.INVITED],
            memberships=[m for m in mine if m.status != MembershipStatus.INVITED],
            led=list(teams_led_by(user=request.user).order_by("name")),
            joinable=(
                list(
                    teams_with_leaders(teams_joinable_by(profile=profile).exclude(id__in=live_team_ids)).order_by(
                        "kind", "name", "id"
                    )
                )
                if profile.status == ApplicationStatus.APPROVED
                else []
            ),
        )
    return render(request, "teams/my_teams.html", context)


@login_required
def team_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    team = team_for(user=request.user, team_id=pk)
    team = teams_with_leaders(Team.objects.filter(id=team.id)).get()
    manages = user_manages_team(user=request.user, team=team)
    profile = _profile(request)
    mine = (
        TeamMembership.objects.filter(team=team, volunteer=profile, status__in=LIVE_STATUSES).first()
        if profile is not None
        else None
    )
    context: dict[str, Any] = {
        "team": team,
        "manages": manages,
        "mine": mine,
        "can_apply": (
            mine is None
            and profile is not None
            and profile.status == ApplicationStatus.APPROVED
            and team.is_active
            and teams_joinable_by(profile=profile).filter(id=team.id).exists()
        ),
    }
    if manages:
        members = team_members(user=request.user, team=team)
        context.update(
            is_staff=user_is_area_staff_of(user=request.user, team=team),
            applications=list(members.filter(status=MembershipStatus.PENDING)),
            invited=list(members.filter(status=MembershipStatus.INVITED)),
            page=Paginator(members.filter(status=MembershipStatus.ACTIVE), MEMBERS_PAGE_SIZE).get_page(
                request.GET.get("page")
            ),
            invite_form=InviteForm(),
            reason_form=ReasonForm(),
            role_form=RoleForm(),
        )
    return render(request, "teams/team_detail.html", context)


@login_required
@require_POST
def team_apply(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    team = team_for(user=request.user, team_id=pk)
    profile = _profile(request)
    if profile is None:
        messages.error(request, _("只有通过实名审核的志愿者才能加入服务队。"))
    else:
        _attempt(
            request,
            lambda: services.membership_apply(team=team, volunteer=profile),
            _("已提交入队申请，请等待队长审核。"),
        )
    return redirect("teams:team_detail", pk=team.id)


@login_required
@require_POST
def team_invite(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    team = team_for(user=request.user, team_id=pk)
    if not user_manages_team(user=request.user, team=team):
        raise Http404
    form = InviteForm(request.POST)
    if form.is_valid():
        _attempt(
            request,
            lambda: services.membership_invite(
                team=team, actor=request.user, volunteer_number=form.cleaned_data["volunteer_number"]
            ),
            _("邀请已发出，等待志愿者答复。"),
        )
    else:
        _form_errors(request, form)
    return redirect("teams:team_detail", pk=team.id)


# verb → (the service call, the form its POST needs if any, the success message)
MembershipAction = tuple[
    Callable[[TeamMembership, AuthenticatedHttpRequest, dict[str, Any]], TeamMembership], type[forms.Form] | None, str
]


def _own(request: AuthenticatedHttpRequest) -> VolunteerProfile:
    profile = _profile(request)
    if profile is None:
        raise Http404
    return profile


_ACTIONS: dict[str, MembershipAction] = {
    "approve": (
        lambda m, r, data: services.membership_approve(membership=m, actor=r.user),
        None,
        gettext_noop("已同意入队申请。"),
    ),
    "reject": (
        lambda m, r, data: services.membership_reject(membership=m, actor=r.user, reason=data["reason"]),
        ReasonForm,
        gettext_noop("已拒绝入队申请。"),
    ),
    "remove": (
        lambda m, r, data: services.membership_remove(membership=m, actor=r.user, reason=data["reason"]),
        ReasonForm,
        gettext_noop("已将该队员移出服务队。"),
    ),
    "role": (
        lambda m, r, data: services.membership_set_role(membership=m, actor=r.user, role=data["role"]),
        RoleForm,
        gettext_noop("角色已更新。"),
    ),
    "accept": (
        lambda m, r, data: services.invite_accept(membership=m, volunteer=_own(r)),
        None,
        gettext_noop("已加入服务队，欢迎！"),
    ),
    "decline": (
        lambda m, r, data: services.invite_decline(membership=m, volunteer=_own(r)),
        None,
        gettext_noop("已婉拒邀请。"),
    ),
    "leave": (
        lambda m, r, data: services.membership_leave(membership=m, volunteer=_own(r)),
        None,
        gettext_noop("已退出。"),
    ),
}
_OWN_VERBS = {"accept", "decline", "leave"}


@login_required
@require_POST
def membership_action(request: AuthenticatedHttpRequest, pk: int, verb: str) -> HttpResponse:
    if verb not in _ACTIONS:
        raise Http404
    membership = membership_for(user=request.user, membership_id=pk)
    run, form_class, success = _ACTIONS[verb]
    data: dict[str, Any] = {}
    back = reverse("teams:my_teams") if verb in _OWN_VERBS else reverse("teams:team_detail", args=[membership.team_id])
    if form_class is not None:
        form = form_class(request.POST)
        if not form.is_valid():
            _form_errors(request, form)
            return redirect(back)
        data = form.cleaned_data
    _attempt(request, lambda: run(membership, request, data), _(success))
    return redirect(back)


@login_required
def staff_teams(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Staff: the teams of their area, a new team, appointments."""
    if not request.user.is_org_staff:
        raise Http404
    teams = (
        teams_in_area(user=request.user)
        .select_related("node")
        .annotate(member_count=Count("memberships", filter=Q(memberships__status=MembershipStatus.ACTIVE)))
        .annotate(pending_count=Count("memberships", filter=Q(memberships__status=MembershipStatus.PENDING)))
        .order_by("node__path", "kind", "name", "id")
    )
    nodes = nodes_for_team_create(user=request.user)
    create_form = TeamCreateForm(nodes=nodes)
    appoint_form = AppointForm(teams=teams_in_area(user=request.user).order_by("name"))
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "create":
            create_form = TeamCreateForm(request.POST, nodes=nodes)
            if create_form.is_valid():
                data = create_form.cleaned_data
                if _attempt(
                    request,
                    lambda: services.team_create(
                        actor=request.user,
                        node=data["node"],
                        name=data["name"],
                        kind=data["kind"],
                        categories=data["categories"],
                        description=data["description"],
                    ),
                    _("服务队已创建。"),
                ):
                    return redirect("teams:staff_teams")
        elif action == "appoint":
            appoint_form = AppointForm(request.POST, teams=teams_in_area(user=request.user).order_by("name"))
            if appoint_form.is_valid():
                data = appoint_form.cleaned_data
                if _attempt(
                    request,
                    lambda: services.membership_appoint(
                        team=data["team"],
                        actor=request.user,
                        volunteer_number=data["volunteer_number"],
                        role=data["role"],
                    ),
                    _("任命成功。"),
                ):
                    return redirect("teams:staff_teams")
        else:
            raise Http404
    page = Paginator(teams, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "teams/staff_teams.html",
        {"page": page, "create_form": create_form, "appoint_form": appoint_form},
    )
