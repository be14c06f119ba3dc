"""Staff pages (所/站/中心): the queue of their area, 审核, 派单, cancel, 回访代评 and 代点单."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from apps.accounts.areas import area_of
from apps.core.errors import DomainError
from apps.core.typing import AuthenticatedHttpRequest
from apps.dispatch import services as dispatch_services
from apps.organisation.selectors import active_categories, townships, villages
from apps.service_requests import services as request_services
from apps.service_requests.models import Status
from apps.service_requests.selectors import (
    as_list_rows,
    request_for_staff,
    requests_managed_by,
)
from apps.volunteers.selectors import dispatchable_volunteers, volunteers_chosen_for_dispatch

from ..forms import (
    DispatchForm,
    OnBehalfRequestForm,
    RatingForm,
    ReasonForm,
    RequiredReasonForm,
    ReviewForm,
)
from ..selectors import request_detail_context
from ..services import request_submit_on_behalf
from .common import attempt, cancel, form_errors, rate, staff_required

QUEUE_FILTERS = {
    "todo": [Status.SUBMITTED, Status.QUEUED, Status.ESCALATED],
    "active": [Status.OFFERED, Status.ACCEPTED, Status.IN_SERVICE],
    "done": [Status.COMPLETED, Status.RATED, Status.CLOSED, Status.REJECTED, Status.CANCELLED],
}


@login_required
def staff_queue(request: AuthenticatedHttpRequest) -> HttpResponse:
    staff_required(request)
    tab = request.GET.get("tab", "todo")
    if tab not in QUEUE_FILTERS:
        tab = "todo"
    qs = (
        as_list_rows(requests_managed_by(user=request.user))
        .filter(status__in=QUEUE_FILTERS[tab])
        .order_by("-urgency", "created_at")
    )
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    return render(request, "workflow/staff/queue.html", {"page": page, "tab": tab, "tabs": list(QUEUE_FILTERS)})


def _int_or_none(raw: str | None) -> int | None:
    try:
        return int(raw) if raw else None
    except ValueError:
        return None


@login_required
def staff_request_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    staff_required(request)
    service_request = request_for_staff(user=request.user, request_id=pk)
    # The candidate list defaults to the request's category and township; staff can widen it.
    category_id = (
        _int_or_none(request.GET.get("category")) if "category" in request.GET else service_request.category_id
    )
    township_id = (
        _int_or_none(request.GET.get("township")) if "township" in request.GET else service_request.township_id
    )
    village_id = _int_or_none(request.GET.get("village"))
    candidates = dispatchable_volunteers(
        user=request.user, category_id=category_id, township_id=township_id, village_id=village_id
    ).distinct()[:100]
    context = request_detail_context(request=service_request)
    return render(
        request,
        "workflow/staff/detail.html",
        {
            "req": service_request,
            **context,
            "candidates": candidates,
            "filter": {"category": category_id, "township": township_id, "village": village_id},
            "townships": townships(),
            "villages": villages(township_id=township_id) if township_id else [],
            "categories": active_categories(),
            "review_form": ReviewForm(),
            "cancel_form": ReasonForm(),
            "rating_form": RatingForm(),
        },
    )


@login_required
@require_POST
def staff_review(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    staff_required(request)
    service_request = request_for_staff(user=request.user, request_id=pk)
    form = ReviewForm(request.POST)
    if form.is_valid():
        accept = form.cleaned_data["decision"] == "accept"
        attempt(
            request,
            lambda: request_services.request_review(
                request=service_request, actor=request.user, accept=accept, reason=form.cleaned_data["reason"]
            ),
            _("已受理，进入待派单。") if accept else _("已不予受理，群众会收到原因。"),
        )
    else:
        form_errors(request, form)
    return redirect("workflow:staff_request_detail", pk=pk)


@login_required
@require_POST
def staff_dispatch(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    staff_required(request)
    service_request = request_for_staff(user=request.user, request_id=pk)
    form = DispatchForm(
        request.POST, volunteer_choices=[(i, str(i)) for i in request.POST.getlist("volunteer_ids") if i.isdigit()]
    )
    if form.is_valid():
        attempt(
            request,
            lambda: dispatch_services.dispatch_directed(
                request=service_request,
                actor=request.user,
                volunteers=volunteers_chosen_for_dispatch(
                    user=request.user, volunteer_ids=form.cleaned_data["volunteer_ids"]
                ),
            ),
            _("已派单，等待志愿者接单。"),
        )
    else:
        messages.error(request, _("请至少选择一名志愿者。"))
    return redirect("workflow:staff_request_detail", pk=pk)


@login_required
@require_POST
def staff_cancel(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    staff_required(request)
    service_request = request_for_staff(user=request.user, request_id=pk)
    # Staff must say why; a resident may cancel without a reason.
    cancel(request, service_request, RequiredReasonForm(request.POST), _("工单已取消。"))
    return redirect("workflow:staff_request_detail", pk=pk)


@login_required
@require_POST
def staff_rate(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """回访后代评: staff record the rating the resident gave on the phone."""
    staff_required(request)
    rate(request, request_for_staff(user=request.user, request_id=pk), _("已代群众评价。"))
    return redirect("workflow:staff_request_detail", pk=pk)


@login_required
@require_http_methods(["GET", "POST"])
def staff_request_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    """代点单 for a resident who called or came to the desk."""
    staff_required(request)
    # Station staff take calls for their own village: start the picker there.
    form = OnBehalfRequestForm(request.POST or None, initial={"village": area_of(request.user).village_id})
    if request.method == "POST" and form.is_valid():
        try:
            created = request_submit_on_behalf(
                staff=request.user,
                data=form.to_input(),
                requester_phone=form.cleaned_data["requester_phone"],
                requester_name=form.cleaned_data["requester_name"],
                channel=form.cleaned_data["channel"],
            )
        except DomainError as exc:
            field = {"out_of_area": "village", "out_of_field": "category"}.get(exc.code)
            form.add_error(field, str(exc.message))
        else:
            messages.success(request, _("已代群众点单。"))
            return HttpResponseRedirect(reverse("workflow:staff_request_detail", args=[created.id]))
    return render(request, "workflow/staff/new.html", {"form": form})
