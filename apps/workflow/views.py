"""Server-rendered pages of the core loop: resident (点单/评单), volunteer (接单) and staff
(审核/派单/代点单). Every object is fetched through a selector scoped to the user: anything
outside it is a 404."""

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_http_methods, require_POST

from apps.core.errors import DomainError
from apps.core.typing import AuthenticatedHttpRequest
from apps.dispatch import services as dispatch_services
from apps.dispatch.models import HOLDS_PLACE, OfferStatus
from apps.dispatch.selectors import offer_of_volunteer, offers_of_volunteer, volunteer_sees_contact
from apps.organisation.selectors import townships, villages
from apps.ratings.services import rating_submit
from apps.service_requests import services as request_services
from apps.service_requests.models import ServiceRequest, Status
from apps.service_requests.selectors import (
    request_for_requester,
    request_for_staff,
    requests_managed_by,
    requests_of_requester,
)
from apps.volunteers.selectors import dispatchable_volunteers

from .forms import (
    CompleteForm,
    DispatchForm,
    OnBehalfRequestForm,
    RatingForm,
    ReasonForm,
    RequestForm,
    RequiredReasonForm,
    ReviewForm,
)
from .selectors import request_detail_context
from .services import request_submit_on_behalf


def _attempt(request: HttpRequest, action: Callable[[], Any], success: str) -> bool:
    """Run a service call; show its refusal to the user instead of failing the page."""
    try:
        action()
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return False
    messages.success(request, success)
    return True


def _form_errors(request: HttpRequest, form: Any) -> None:
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)


def _rate(request: AuthenticatedHttpRequest, service_request: ServiceRequest, success: str) -> None:
    form = RatingForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return
    _attempt(
        request,
        lambda: rating_submit(
            request=service_request,
            actor=request.user,
            score=form.cleaned_data["score"],
            tags=form.cleaned_data["tags"],
            comment=form.cleaned_data["comment"],
        ),
        success,
    )


def _cancel(
    request: AuthenticatedHttpRequest,
    service_request: ServiceRequest,
    form: ReasonForm | RequiredReasonForm,
    success: str,
) -> None:
    if not form.is_valid():
        _form_errors(request, form)
        return
    _attempt(
        request,
        lambda: dispatch_services.request_cancel(
            request=service_request, actor=request.user, reason=form.cleaned_data["reason"]
        ),
        success,
    )


def _staff_required(request: AuthenticatedHttpRequest) -> None:
    if not (request.user.is_superuser or request.user.staff_node_id is not None):
        raise Http404


def _volunteer_required(request: AuthenticatedHttpRequest) -> None:
    if not request.user.is_volunteer:
        raise Http404


# ---------------------------------------------------------------- resident (群众)


@login_required
def my_requests(request: AuthenticatedHttpRequest) -> HttpResponse:
    page = Paginator(requests_of_requester(user=request.user), 20).get_page(request.GET.get("page"))
    return render(request, "workflow/resident/list.html", {"page": page})


@login_required
@require_http_methods(["GET", "POST"])
def request_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    initial = {"contact_name": request.user.name, "contact_phone": request.user.phone}
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
@require_POST
def request_rate(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    _rate(request, request_for_requester(user=request.user, request_id=pk), _("感谢您的评价！"))
    return redirect("workflow:request_detail", pk=pk)


@login_required
@require_POST
def request_cancel(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    service_request = request_for_requester(user=request.user, request_id=pk)
    _cancel(request, service_request, ReasonForm(request.POST), _("需求已取消。"))
    return redirect("workflow:request_detail", pk=pk)


# ---------------------------------------------------------------- volunteer (志愿者)


@login_required
def volunteer_offers(request: AuthenticatedHttpRequest) -> HttpResponse:
    _volunteer_required(request)
    # An offer past its time is not shown even before the expiry sweep has marked it.
    offers = offers_of_volunteer(user=request.user).filter(status=OfferStatus.OFFERED, expires_at__gt=timezone.now())
    return render(request, "workflow/volunteer/offers.html", {"offers": offers})


@login_required
def volunteer_tasks(request: AuthenticatedHttpRequest) -> HttpResponse:
    _volunteer_required(request)
    active = offers_of_volunteer(user=request.user).filter(status__in=HOLDS_PLACE)
    done = offers_of_volunteer(user=request.user).filter(status=OfferStatus.COMPLETED)[:20]
    return render(
        request,
        "workflow/volunteer/tasks.html",
        {
            "active": [(o, volunteer_sees_contact(offer=o)) for o in active],
            "done": done,
            "complete_form": CompleteForm(),
        },
    )


_OFFER_ACTIONS = {
    "accept": (
        lambda offer, v, data: dispatch_services.offer_accept(offer=offer, volunteer=v),
        None,
        gettext_noop("接单成功！请按时前往服务。"),
    ),
    "decline": (
        lambda offer, v, data: dispatch_services.offer_decline(offer=offer, volunteer=v, reason=data["reason"]),
        ReasonForm,
        gettext_noop("已婉拒，感谢您的答复。"),
    ),
    "arrive": (
        lambda offer, v, data: dispatch_services.offer_check_in(offer=offer, volunteer=v),
        None,
        gettext_noop("已签到，服务计时开始。"),
    ),
    "complete": (
        lambda offer, v, data: dispatch_services.offer_complete(offer=offer, volunteer=v, report=data["report"]),
        CompleteForm,
        gettext_noop("服务已完成，辛苦了！"),
    ),
    "release": (
        lambda offer, v, data: dispatch_services.offer_release(offer=offer, volunteer=v, reason=data["reason"]),
        RequiredReasonForm,
        gettext_noop("已告知工作人员，工单将重新派单。"),
    ),
}


@login_required
@require_POST
def volunteer_offer_action(request: AuthenticatedHttpRequest, pk: int, verb: str) -> HttpResponse:
    _volunteer_required(request)
    if verb not in _OFFER_ACTIONS:
        raise Http404
    offer = offer_of_volunteer(user=request.user, offer_id=pk)
    run, form_class, success = _OFFER_ACTIONS[verb]
    data: dict[str, Any] = {}
    if form_class is not None:
        form = form_class(request.POST)
        if not form.is_valid():
            _form_errors(request, form)
            return redirect(_next_volunteer_page(verb))
        data = form.cleaned_data
    _attempt(request, lambda: run(offer, offer.volunteer, data), _(success))
    return redirect(_next_volunteer_page(verb))


def _next_volunteer_page(verb: str) -> str:
    return reverse("workflow:volunteer_offers") if verb == "decline" else reverse("workflow:volunteer_tasks")


# ---------------------------------------------------------------- staff (所/站/中心)

QUEUE_FILTERS = {
    "todo": [Status.SUBMITTED, Status.QUEUED, Status.ESCALATED],
    "active": [Status.OFFERED, Status.ACCEPTED, Status.IN_SERVICE],
    "done": [Status.COMPLETED, Status.RATED, Status.CLOSED, Status.REJECTED, Status.CANCELLED],
}


@login_required
def staff_queue(request: AuthenticatedHttpRequest) -> HttpResponse:
    _staff_required(request)
    tab = request.GET.get("tab", "todo")
    if tab not in QUEUE_FILTERS:
        tab = "todo"
    qs = requests_managed_by(user=request.user).filter(status__in=QUEUE_FILTERS[tab]).order_by("-urgency", "created_at")
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    return render(request, "workflow/staff/queue.html", {"page": page, "tab": tab, "tabs": list(QUEUE_FILTERS)})


def _int_or_none(raw: str | None) -> int | None:
    try:
        return int(raw) if raw else None
    except ValueError:
        return None


@login_required
def staff_request_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    _staff_required(request)
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
            "categories": RequestForm.base_fields["category"].queryset,  # type: ignore[attr-defined]
            "review_form": ReviewForm(),
            "cancel_form": ReasonForm(),
            "rating_form": RatingForm(),
        },
    )


@login_required
@require_POST
def staff_review(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    _staff_required(request)
    service_request = request_for_staff(user=request.user, request_id=pk)
    form = ReviewForm(request.POST)
    if form.is_valid():
        accept = form.cleaned_data["decision"] == "accept"
        _attempt(
            request,
            lambda: request_services.request_review(
                request=service_request, actor=request.user, accept=accept, reason=form.cleaned_data["reason"]
            ),
            _("已受理，进入待派单。") if accept else _("已不予受理，群众会收到原因。"),
        )
    else:
        _form_errors(request, form)
    return redirect("workflow:staff_request_detail", pk=pk)


@login_required
@require_POST
def staff_dispatch(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    _staff_required(request)
    service_request = request_for_staff(user=request.user, request_id=pk)
    visible = dispatchable_volunteers(user=request.user)
    form = DispatchForm(
        request.POST, volunteer_choices=[(i, str(i)) for i in request.POST.getlist("volunteer_ids") if i.isdigit()]
    )
    if form.is_valid():
        chosen = list(visible.filter(id__in=form.cleaned_data["volunteer_ids"]).distinct())
        if len(chosen) != len(set(form.cleaned_data["volunteer_ids"])):
            messages.error(request, _("所选志愿者不存在或不在您的服务范围内。"))
        else:
            _attempt(
                request,
                lambda: dispatch_services.dispatch_directed(
                    request=service_request, actor=request.user, volunteers=chosen
                ),
                _("已派单，等待志愿者接单。"),
            )
    else:
        messages.error(request, _("请至少选择一名志愿者。"))
    return redirect("workflow:staff_request_detail", pk=pk)


@login_required
@require_POST
def staff_cancel(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    _staff_required(request)
    service_request = request_for_staff(user=request.user, request_id=pk)
    # Staff must say why; a resident may cancel without a reason.
    _cancel(request, service_request, RequiredReasonForm(request.POST), _("工单已取消。"))
    return redirect("workflow:staff_request_detail", pk=pk)


@login_required
@require_POST
def staff_rate(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    """回访后代评: staff record the rating the resident gave on the phone."""
    _staff_required(request)
    _rate(request, request_for_staff(user=request.user, request_id=pk), _("已代群众评价。"))
    return redirect("workflow:staff_request_detail", pk=pk)


@login_required
@require_http_methods(["GET", "POST"])
def staff_request_new(request: AuthenticatedHttpRequest) -> HttpResponse:
    """代点单 for a resident who called or came to the desk."""
    _staff_required(request)
    form = OnBehalfRequestForm(request.POST or None)
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
            form.add_error("village" if exc.code == "out_of_area" else None, str(exc.message))
        else:
            messages.success(request, _("已代群众点单。"))
            return HttpResponseRedirect(reverse("workflow:staff_request_detail", args=[created.id]))
    return render(request, "workflow/staff/new.html", {"form": form})
