"""Staff pages of 回访 (PC): the follow-up cases of their area by tab, a routine sample, and one
case with the rating, the resident's number to call, its calls and the form to record one.

Anyone who is not staff gets 404, as on the other staff pages; a case outside the staff member's
area is 404 too, as if it did not exist."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from apps.core.errors import Conflict, DomainError
from apps.core.typing import AuthenticatedHttpRequest

from . import services
from .forms import CallForm, SampleForm
from .models import FollowUp, FollowUpStatus
from .selectors import as_case_rows, follow_up_calls, follow_up_for_staff, follow_ups_visible_to

PAGE_SIZE = 30

# tab → (which cases, in which order). 待回访 is every open case, the overdue first (the earliest
# deadline first is exactly that); 已上报 those of them escalated to the centre.
TABS: dict[str, tuple[Q, tuple[str, ...]]] = {
    "open": (Q(status=FollowUpStatus.OPEN), ("due_at", "id")),
    "escalated": (Q(status=FollowUpStatus.OPEN, escalated_at__isnull=False), ("due_at", "id")),
    "closed": (Q(status=FollowUpStatus.CLOSED), ("-closed_at", "-id")),
}


def _staff_only(request: AuthenticatedHttpRequest) -> None:
    if not request.user.is_org_staff:
        raise Http404


def _list_page(request: AuthenticatedHttpRequest, *, sample_form: SampleForm, status: int = 200) -> HttpResponse:
    tab = request.GET.get("tab", "open")
    if tab not in TABS:
        tab = "open"
    condition, order = TABS[tab]
    cases = as_case_rows(follow_ups_visible_to(user=request.user)).filter(condition).order_by(*order)
    page = Paginator(cases, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "ratings/follow_ups.html",
        {"page": page, "tab": tab, "now": timezone.now(), "sample_form": sample_form},
        status=status,
    )


@login_required
@require_GET
def follow_up_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    _staff_only(request)
    return _list_page(request, sample_form=SampleForm())


@login_required
@require_POST
def follow_up_sample(request: AuthenticatedHttpRequest) -> HttpResponse:
    _staff_only(request)
    form = SampleForm(request.POST)
    if not form.is_valid():
        return _list_page(request, sample_form=form, status=400)
    try:
        cases = services.follow_ups_sample(actor=request.user, count=form.cleaned_data["count"])
    except DomainError as exc:
        form.add_error("count", str(exc.message))
        return _list_page(request, sample_form=form, status=exc.status_code)
    if cases:
        messages.success(
            request,
            ngettext("已抽取%(n)d件工单进行例行回访。", "已抽取%(n)d件工单进行例行回访。", len(cases))
            % {"n": len(cases)},
        )
    else:
        messages.info(request, _("近30天内没有可以抽样回访的工单。"))
    return redirect("ratings:follow_ups")


def _detail_page(
    request: AuthenticatedHttpRequest, case: FollowUp, *, form: CallForm, status: int = 200
) -> HttpResponse:
    service_request = case.request
    context: dict[str, Any] = {
        "case": case,
        "req": service_request,
        # A reverse one-to-one read through select_related: None when the request has no rating.
        "rating": getattr(service_request, "rating", None),
        "calls": list(follow_up_calls(case=case)),
        "form": form,
    }
    return render(request, "ratings/follow_up_detail.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def follow_up_detail(request: AuthenticatedHttpRequest, pk: int) -> HttpResponse:
    _staff_only(request)
    case = follow_up_for_staff(user=request.user, case_id=pk)
    if request.method != "POST":
        return _detail_page(request, case, form=CallForm())
    form = CallForm(request.POST)
    if not form.is_valid():
        return _detail_page(request, case, form=form, status=400)
    data = form.cleaned_data
    try:
        services.follow_up_record_call(
            case=case,
            actor=request.user,
            reached=data["reached"],
            notes=data["notes"],
            outcome=data["outcome"] or None,
            close=data["close"],
        )
    except DomainError as exc:
        if isinstance(exc, Conflict):
            # Closed meanwhile: the page comes back without the form, so the message says why.
            messages.error(request, str(exc.message))
        else:
            form.add_error(None, str(exc.message))
        return _detail_page(
            request, follow_up_for_staff(user=request.user, case_id=pk), form=form, status=exc.status_code
        )
    messages.success(request, _("回访已办结，结果已告知群众。") if data["close"] else _("回访记录已保存。"))
    return redirect("ratings:follow_up_detail", pk=case.id)
