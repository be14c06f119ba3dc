"""Staff pages of the matching queue: ranked candidates, dispatch mode, the queue at work.

The request's own page (``workflow:staff_request_detail``) shows all three; it builds them with
:func:`candidate_panel`, :class:`DispatchModeForm` and the queue's ``match_summary``. The views
here are what those parts post or fetch: the next candidates (htmx), and the mode switch."""

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from apps.accounts.models import User
from apps.core.errors import DomainError
from apps.core.fields import TextFormField
from apps.core.filters import MAX_ID
from apps.core.typing import AuthenticatedHttpRequest
from apps.organisation.models import DispatchMode
from apps.organisation.selectors import townships, villages
from apps.service_requests.models import ServiceRequest
from apps.teams.models import Team
from apps.teams.selectors import teams_in_area

from . import services
from .api_staff import MAX_OFFSET, MAX_SEARCH, PAGE, candidates_for_staff, managed_request


class CandidateFilterForm(forms.Form):
    """The search box and filters above the candidates, and how far down the list to start."""

    search = TextFormField(label=gettext_lazy("搜索志愿者"), max_length=MAX_SEARCH, required=False)
    township = forms.IntegerField(label=gettext_lazy("乡镇/街道"), min_value=1, max_value=MAX_ID, required=False)
    village = forms.IntegerField(label=gettext_lazy("村/社区"), min_value=1, max_value=MAX_ID, required=False)
    offset = forms.IntegerField(min_value=0, max_value=MAX_OFFSET, required=False)


def candidate_panel(*, user: User, service_request: ServiceRequest, params: QueryDict) -> dict[str, Any]:
    """What the candidates part of a request's page shows, from its query string: the ranked
    candidates (20), the filters as given, their errors, and the query of the next 20 (None:
    no more). A filter that is not valid is shown with its error and not applied."""
    form = CandidateFilterForm(params)
    form.is_valid()
    values = form.cleaned_data
    search = values.get("search") or ""
    township_id = values.get("township")
    village_id = values.get("village")
    offset = values.get("offset") or 0
    candidates, more = candidates_for_staff(
        user=user,
        request=service_request,
        limit=PAGE,
        offset=offset,
        search=search,
        township_id=township_id,
        village_id=village_id,
    )
    kept = {"search": search, "township": township_id or "", "village": village_id or ""}
    return {
        "candidates": candidates,
        "first_rank": offset + 1,
        "candidate_errors": [error for errors in form.errors.values() for error in errors],
        "filter": kept,
        "more_query": urlencode({**kept, "offset": offset + PAGE}) if more else None,
    }


def candidate_filter_choices(*, township_id: Any) -> dict[str, Any]:
    return {
        "townships": townships(),
        "villages": villages(township_id=township_id) if township_id else [],
    }


class DispatchModeForm(forms.Form):
    mode = forms.ChoiceField(label=gettext_lazy("派单方式"), choices=DispatchMode.choices)
    team = forms.ModelChoiceField(
        label=gettext_lazy("服务队"),
        queryset=Team.objects.none(),
        required=False,
        empty_label=gettext_lazy("请选择"),
        error_messages={"invalid_choice": gettext_lazy("该服务队不存在、已停用或不在您的服务范围内。")},
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        team = self.fields["team"]
        assert isinstance(team, forms.ModelChoiceField)
        team.queryset = teams_in_area(user=user).filter(is_active=True).order_by("name", "id")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("mode") == DispatchMode.TEAM and not data.get("team") and "team" not in self.errors:
            self.add_error("team", _("服务队派单须选择服务队。"))
        return data


def _staff(request: AuthenticatedHttpRequest) -> User:
    if not request.user.is_org_staff:
        raise Http404
    return request.user


@login_required
@require_GET
def staff_candidates(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """The next candidates of a request, as rows to append to its page's list (htmx)."""
    user = _staff(request)
    service_request = managed_request(user=user, pk=pk)
    form = CandidateFilterForm(request.GET)
    if not form.is_valid():
        errors = [str(error) for errors in form.errors.values() for error in errors]
        return render(request, "matching/staff/_candidate_errors.html", {"candidate_errors": errors}, status=400)
    panel = candidate_panel(user=user, service_request=service_request, params=request.GET)
    return render(request, "matching/staff/_candidate_rows.html", {"req": service_request, **panel})


@login_required
@require_POST
def staff_dispatch_mode(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """Switch how a request finds its volunteers; back to its page with what happened."""
    user = _staff(request)
    service_request = managed_request(user=user, pk=pk)
    form = DispatchModeForm(request.POST, user=user)
    if form.is_valid():
        mode = form.cleaned_data["mode"]
        team = form.cleaned_data["team"] if mode == DispatchMode.TEAM else None
        try:
            services.dispatch_mode_set(request=service_request, actor=user, mode=mode, team=team)
        except DomainError as exc:
            messages.error(request, str(exc.message))
        else:
            messages.success(request, _("派单方式已改为「%(mode)s」。") % {"mode": DispatchMode(mode).label})
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
    return redirect("workflow:staff_request_detail", pk=service_request.id)


staff_paths: list[URLPattern] = [
    path("s/requests/<int:pk>/candidates/", staff_candidates, name="staff_candidates"),
    path("s/requests/<int:pk>/dispatch-mode/", staff_dispatch_mode, name="staff_dispatch_mode"),
]
