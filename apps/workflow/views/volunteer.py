"""Volunteer pages (志愿者), phone-sized: offers (接单/婉拒) and tasks (出发, arrive, complete, can't go)."""

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.http import require_POST

from apps.core.typing import AuthenticatedHttpRequest
from apps.dispatch import services as dispatch_services
from apps.dispatch.models import HOLDS_PLACE, Offer, OfferStatus
from apps.dispatch.selectors import (
    offer_expected_arrival,
    offer_of_volunteer,
    offers_of_volunteer,
    volunteer_sees_contact,
)
from apps.volunteers.models import VolunteerProfile

from ..forms import (
    CompleteForm,
    ReasonForm,
    RequiredReasonForm,
)
from ..selectors import offer_cards, open_offers_for_cards
from .common import attempt, form_errors, volunteer_required

# Offers and tasks per page: a busy volunteer's list stays a phone-sized page.
PAGE_SIZE = 20
# 出发: the expected trip, in minutes, one tap each; other values are typed.
ETA_PICKS = (10, 20, 30)


class DepartForm(forms.Form):
    """出发 with an optional ETA: a quick pick, or minutes typed (which win over the pick)."""

    eta_pick = forms.TypedChoiceField(
        choices=[("", "")] + [(str(m), str(m)) for m in ETA_PICKS],
        coerce=int,
        required=False,
        empty_value=None,
    )
    eta_minutes = forms.IntegerField(required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Not a number at all reads as the range, in the reader's language.
        self.fields["eta_minutes"].error_messages["invalid"] = dispatch_services.eta_range_message()

    def clean_eta_minutes(self) -> int | None:
        minutes: int | None = self.cleaned_data.get("eta_minutes")
        if minutes is not None and not 1 <= minutes <= dispatch_services.MAX_ETA_MINUTES:
            raise forms.ValidationError(dispatch_services.eta_range_message(), code="eta_range")
        return minutes

    def eta(self) -> int | None:
        typed: int | None = self.cleaned_data.get("eta_minutes")
        return typed if typed is not None else self.cleaned_data.get("eta_pick")


@login_required
def volunteer_offers(request: AuthenticatedHttpRequest) -> HttpResponse:
    volunteer_required(request)
    page = Paginator(open_offers_for_cards(user=request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "workflow/volunteer/offers.html", {"page": page, "cards": offer_cards(page)})


@login_required
def volunteer_tasks(request: AuthenticatedHttpRequest) -> HttpResponse:
    volunteer_required(request)
    active = offers_of_volunteer(user=request.user).filter(status__in=HOLDS_PLACE)
    page = Paginator(active, PAGE_SIZE).get_page(request.GET.get("page"))
    done = offers_of_volunteer(user=request.user).filter(status=OfferStatus.COMPLETED)[:20]
    return render(
        request,
        "workflow/volunteer/tasks.html",
        {
            "page": page,
            "active": [(o, volunteer_sees_contact(offer=o), offer_expected_arrival(o)) for o in page],
            "done": done,
            "complete_form": CompleteForm(),
            "eta_picks": ETA_PICKS,
            "max_eta": dispatch_services.MAX_ETA_MINUTES,
        },
    )


# verb → (the service call, the form its POST needs if any, the success message)
OfferAction = tuple[Callable[[Offer, VolunteerProfile, dict[str, Any]], Offer], type[forms.Form] | None, str]
_OFFER_ACTIONS: dict[str, OfferAction] = {
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
    "depart": (
        lambda offer, v, data: dispatch_services.offer_depart(offer=offer, volunteer=v, eta_minutes=data["eta"]),
        DepartForm,
        gettext_noop("已出发，已告知群众和工作人员。路上注意安全！"),
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
    volunteer_required(request)
    if verb not in _OFFER_ACTIONS:
        raise Http404
    offer = offer_of_volunteer(user=request.user, offer_id=pk)
    run, form_class, success = _OFFER_ACTIONS[verb]
    data: dict[str, Any] = {}
    if form_class is not None:
        form = form_class(request.POST)
        if not form.is_valid():
            form_errors(request, form)
            return redirect(_next_volunteer_page(verb))
        data = {**form.cleaned_data, "eta": form.eta()} if isinstance(form, DepartForm) else form.cleaned_data
    attempt(request, lambda: run(offer, offer.volunteer, data), _(success))
    return redirect(_next_volunteer_page(verb))


def _next_volunteer_page(verb: str) -> str:
    return reverse("workflow:volunteer_offers") if verb == "decline" else reverse("workflow:volunteer_tasks")
