"""Staff pages (所/站/中心): the queue of their area, 审核, 派单, cancel, 回访代评 and 代点单."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import BooleanField, Case, Count, F, Q, When
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from apps.accounts.areas import area_of
from apps.core.errors import DomainError
from apps.core.typing import AuthenticatedHttpRequest
from apps.dispatch import services as dispatch_services
from apps.matching.models import NeedsPerson
from apps.matching.queue_selectors import match_summary
from apps.matching.services import QUEUE_MODES
from apps.matching.views_staff import DispatchModeForm, candidate_filter_choices, candidate_panel
from apps.organisation.models import DispatchMode
from apps.service_requests import services as request_services
from apps.service_requests.models import Status
from apps.service_requests.selectors import (
    as_list_rows,
    request_for_staff,
    requests_managed_by,
)
from apps.volunteers.selectors import volunteers_chosen_for_dispatch

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
    "todo": Q(status__in=[Status.SUBMITTED, Status.QUEUED, Status.ESCALATED])
    # Offered by the queue and still short of volunteers: the queue is at work on it.
    | Q(status=Status.OFFERED, dispatch_mode__in=QUEUE_MODES),
    "active": Q(status__in=[Status.OFFERED, Status.ACCEPTED, Status.IN_SERVICE]),
    "done": Q(status__in=[Status.COMPLETED, Status.RATED, Status.CLOSED, Status.REJECTED, Status.CANCELLED]),
}
# In the todo tab, what needs a person (审核, staff picking the volunteers, or the queue gave up:
# no candidates, escalated, the team declined) comes before what the queue is working on.
NEEDS_PERSON = (
    Q(status__in=[Status.SUBMITTED, Status.ESCALATED])
    | Q(dispatch_mode=DispatchMode.DIRECTED)
    | Q(match__needs_person__in=NeedsPerson.values)
)


@login_required
def staff_queue(request: AuthenticatedHttpRequest) -> HttpResponse:
    staff_required(request)
    tab = request.GET.get("tab", "todo")
    if tab not in QUEUE_FILTERS:
        tab = "todo"
    qs = as_list_rows(requests_managed_by(user=request.user)).filter(QUEUE_FILTERS[tab])
    counts = None
    if tab == "todo":
        qs = qs.annotate(
            waits_for_person=Case(When(NEEDS_PERSON, then=True), default=False, output_field=BooleanField()),
            queue_stop=F("match__needs_person"),  # why the queue gave up, shown in the row
        )
        counts = qs.aggregate(needs_person=Count("id", filter=Q(waits_for_person=True)), total=Count("id"))
        counts["working"] = counts["total"] - counts["needs_person"]
        qs = qs.order_by("-waits_for_person", "-urgency", "created_at")
    else:
        qs = qs.order_by("-urgency", "created_at")
    paginator = Paginator(qs, 30)
    if counts is not None:
        paginator.count = counts["total"]  # counted with the groups above: no second COUNT
    page = paginator.get_page(request.GET.get("page"))
    return render(
        request,
        "workflow/staff/queue.html",
        {"page": page, "tab": tab, "tabs": list(QUEUE_FILTERS), "counts": counts},
    )


@login_required
def staff_request_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    staff_required(request)
    service_request = request_for_staff(user=request.user, request_id=pk)
    context = request_detail_context(request=service_request)
    dispatching: dict[str, Any] = {}
    if service_request.can_be_dispatched:
        # The ranked candidates (20, with their reasons), the search and filters, and the mode.
        panel = candidate_panel(user=request.user, service_request=service_request, params=request.GET)
        dispatching = {
            **panel,
            **candidate_filter_choices(township_id=panel["filter"]["township"]),
            "mode_form": DispatchModeForm(user=request.user, initial={"mode": service_request.dispatch_mode}),
        }
    return render(
        request,
        "workflow/staff/detail.html",
        {
            "req": service_request,
            **context,
            **dispatching,
            "match": match_summary(service_request),
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
            messages.success(request, _("已代群众点单并受理，工单已进入派单队列。"))
            return HttpResponseRedirect(reverse("workflow:staff_request_detail", args=[created.id]))
    return render(request, "workflow/staff/new.html", {"form": form})
