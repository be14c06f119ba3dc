"""Resident pages (群众): 点单, 一键求助, my requests and their timeline, 评单, cancel."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from apps.accounts.models import User
from apps.core.errors import DomainError
from apps.core.typing import AuthenticatedHttpRequest
from apps.service_requests import services as request_services
from apps.service_requests.selectors import (
    as_list_rows,
    request_for_requester,
    requests_of_requester,
)

from ..forms import (
    HelpForm,
    RatingForm,
    ReasonForm,
    RequestForm,
)
from ..selectors import request_detail_context, with_rated
from .common import cancel, rate


def _home_village_id(user: User) -> int | None:
    """Where the user lives, to pre-fill the place picker: their own home village, else the
    one on their volunteer profile."""
    if user.home_village_id is not None:
        return user.home_village_id
    profile = getattr(user, "volunteer_profile", None)
    return profile.home_village_id if profile is not None else None


@login_required
def my_requests(request: AuthenticatedHttpRequest) -> HttpResponse:
    rows = with_rated(as_list_rows(requests_of_requester(user=request.user)))
    page = Paginator(rows, 20).get_page(request.GET.get("page"))
    return render(request, "workflow/resident/list.html", {"page": page})


@login_required
@require_http_methods(["GET", "POST"])
def request_help(request: AuthenticatedHttpRequest) -> HttpResponse:
    """一键求助: the short form (category, one sentence, village and phone filled in)."""
    initial = {"contact_phone": request.user.phone, "village": _home_village_id(request.user)}
    form = HelpForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            created = request_services.request_submit(
                data=form.to_input(contact_name=request.user.name), requester=request.user, entered_by=request.user
            )
        except DomainError as exc:
            form.add_error(None, str(exc.message))
        else:
            messages.success(request, _("求助已发出，服务站会尽快联系您。"))
            return redirect("workflow:request_detail", pk=created.id)
    return render(request, "workflow/resident/help.html", {"form": form}, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def request_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    initial = {
        "contact_name": request.user.name,
        "contact_phone": request.user.phone,
        "village": _home_village_id(request.user),
    }
    form = RequestForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            created = request_services.request_submit(
                data=form.to_input(), requester=request.user, entered_by=request.user
            )
        except DomainError as exc:
            form.add_error(None, str(exc.message))
        else:
            messages.success(request, _("需求已提交，我们会尽快处理。"))
            return redirect("workflow:request_detail", pk=created.id)
    return render(request, "workflow/resident/new.html", {"form": form})


@login_required
def request_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    service_request = request_for_requester(user=request.user, request_id=pk)
    context = request_detail_context(request=service_request)
    return render(
        request,
        "workflow/resident/detail.html",
        {"req": service_request, **context, "rating_form": RatingForm(), "cancel_form": ReasonForm()},
    )


@login_required
@require_http_methods(["GET", "POST"])
def request_rate(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """评单 on a page of its own (one screen, reached in one tap from the list). A request that
    cannot be rated (not finished, or rated already) sends the resident to its page."""
    service_request = request_for_requester(user=request.user, request_id=pk)
    if request.method == "POST":
        form = RatingForm(request.POST)
        if form.is_valid() and rate(request, service_request, _("已评价，感谢您的反馈！"), form=form):
            return redirect("workflow:request_detail", pk=pk)
        if form.is_valid() or not service_request.can_be_rated:
            return redirect("workflow:request_detail", pk=pk)
        return render(request, "workflow/resident/rate.html", {"req": service_request, "form": form}, status=400)
    if not service_request.can_be_rated:
        return redirect("workflow:request_detail", pk=pk)
    return render(request, "workflow/resident/rate.html", {"req": service_request, "form": RatingForm()})


@login_required
@require_POST
def request_cancel(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    service_request = request_for_requester(user=request.user, request_id=pk)
    cancel(request, service_request, ReasonForm(request.POST), _("需求已取消。"))
    return redirect("workflow:request_detail", pk=pk)
