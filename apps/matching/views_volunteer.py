"""Volunteer pages of the matching queue: open tasks (抢单) and team dispatch by a leader.
Phone-first; every action is a plain form POST (no script needed), its refusal shown as a message."""

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from apps.core.errors import DomainError, NotFound
from apps.core.fields import TextFormField
from apps.core.filters import MAX_ID
from apps.core.typing import AuthenticatedHttpRequest
from apps.organisation.models import Place
from apps.service_requests.models import ServiceRequest
from apps.teams.selectors import is_team_leader
from apps.volunteers.models import VolunteerProfile

from .broadcast import broadcast_request, open_task_take, open_tasks_for
from .selectors import home_distance_km
from .team_dispatch import (
    TEAM_TASKS_LIMIT,
    members_chosen,
    team_assign,
    team_decline,
    team_task_candidates,
    team_task_for,
    team_tasks_for,
)


def _attempt(request: HttpRequest, action: Callable[[], Any], success: str) -> bool:
    """Run a service call; show its refusal to the user instead of failing the page."""
    try:
        action()
    except NotFound:
        raise  # out of the user's sight: the page's 404, not a message
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return False
    messages.success(request, success)
    return True


def _volunteer(request: AuthenticatedHttpRequest) -> VolunteerProfile:
    profile: VolunteerProfile | None = getattr(request.user, "volunteer_profile", None)
    if profile is None:
        raise Http404
    return profile


def _leader(request: AuthenticatedHttpRequest) -> None:
    if not is_team_leader(user=request.user):
        raise Http404


def _id(pk: int) -> int:
    if pk > MAX_ID:  # names no row; the database driver would refuse the number
        raise Http404
    return pk


# --- 抢单 ---------------------------------------------------------------------------------------


def _distances_from_home(
    volunteer: VolunteerProfile, tasks: list[ServiceRequest]
) -> list[tuple[ServiceRequest, float | None]]:
    """Each open task with its distance from the volunteer's home, measured as on the offer
    cards (``home_distance_km``). One query for the home places, whatever the number of tasks."""
    homes: dict[int | None, Place] = {
        p.id: p for p in Place.objects.filter(id__in=[volunteer.home_village_id, volunteer.home_township_id])
    }
    village, township = homes.get(volunteer.home_village_id), homes.get(volunteer.home_township_id)
    return [(task, home_distance_km(home_village=village, home_township=township, request=task)) for task in tasks]


@login_required
@require_GET
def open_tasks(request: AuthenticatedHttpRequest) -> HttpResponse:
    volunteer = _volunteer(request)
    tasks = open_tasks_for(volunteer=volunteer)
    return render(
        request,
        "matching/volunteer/open_tasks.html",
        {
            "tasks": _distances_from_home(volunteer, tasks) if tasks else [],
            "home_village_id": volunteer.home_village_id,
            "can_take": volunteer.can_receive_offers,
            "leads_a_team": is_team_leader(user=request.user),
        },
    )


@login_required
@require_POST
def open_task_take_view(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    volunteer = _volunteer(request)
    service_request = broadcast_request(request_id=_id(pk))
    taken = _attempt(
        request,
        lambda: open_task_take(request=service_request, volunteer=volunteer),
        _("抢单成功！请按时前往服务。"),
    )
    return redirect(reverse("workflow:volunteer_tasks") if taken else reverse("matching:open_tasks"))


# --- 服务队派单 -----------------------------------------------------------------------------------


class DeclineForm(forms.Form):
    reason = TextFormField(
        label=gettext_lazy("无法承接的原因"),
        max_length=200,
        error_messages={"required": gettext_lazy("请说明服务队无法承接的原因。")},
    )


@login_required
@require_GET
def team_tasks(request: AuthenticatedHttpRequest) -> HttpResponse:
    _leader(request)
    tasks = [
        team_task_candidates(request=r, leader=request.user)
        for r in team_tasks_for(user=request.user)[:TEAM_TASKS_LIMIT]
    ]
    return render(request, "matching/volunteer/team_tasks.html", {"tasks": tasks})


def _form_errors(request: HttpRequest, form: forms.Form) -> None:
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, str(error))


@login_required
@require_POST
def team_task_assign(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    _leader(request)
    service_request = team_task_for(user=request.user, request_id=_id(pk))
    raw = request.POST.getlist("members")
    # Whatever was ticked is checked by the services (members of the team, eligible, places):
    # here only that something was, and that each is a number.
    if not raw:
        messages.error(request, _("请至少选择一名队员。"))
        return redirect("matching:team_tasks")
    if not all(v.isascii() and v.isdigit() and len(v) <= 12 for v in raw):
        messages.error(request, _("提交的内容有误，请检查后重试。"))
        return redirect("matching:team_tasks")
    ids = [int(v) for v in raw]
    _attempt(
        request,
        lambda: team_assign(
            request=service_request,
            leader=request.user,
            members=members_chosen(request=service_request, leader=request.user, member_ids=ids),
        ),
        _("已安排队员，等待队员确认。"),
    )
    return redirect("matching:team_tasks")


@login_required
@require_POST
def team_task_decline(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    _leader(request)
    service_request = team_task_for(user=request.user, request_id=_id(pk))
    form = DeclineForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect("matching:team_tasks")
    _attempt(
        request,
        lambda: team_decline(request=service_request, leader=request.user, reason=form.cleaned_data["reason"]),
        _("已告知工作人员，该需求将另行安排。"),
    )
    return redirect("matching:team_tasks")


volunteer_paths: list[URLPattern] = [
    path("v/open-tasks/", open_tasks, name="open_tasks"),
    path("v/open-tasks/<int:pk>/take/", open_task_take_view, name="open_task_take"),
    path("v/team-tasks/", team_tasks, name="team_tasks"),
    path("v/team-tasks/<int:pk>/assign/", team_task_assign, name="team_task_assign"),
    path("v/team-tasks/<int:pk>/decline/", team_task_decline, name="team_task_decline"),
]
