"""What the resident, volunteer and staff pages share: running a service call and showing
its refusal, form errors, rating and cancelling, and the role checks."""

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest

from apps.core.errors import DomainError
from apps.core.typing import AuthenticatedHttpRequest
from apps.dispatch import services as dispatch_services
from apps.ratings.services import rating_submit
from apps.service_requests.models import ServiceRequest

from ..forms import (
    RatingForm,
    ReasonForm,
    RequiredReasonForm,
)


def attempt(request: HttpRequest, action: Callable[[], Any], success: str) -> bool:
    """Run a service call; show its refusal to the user instead of failing the page."""
    try:
        action()
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return False
    messages.success(request, success)
    return True


def form_errors(request: HttpRequest, form: Any) -> None:
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)


def rate(
    request: AuthenticatedHttpRequest, service_request: ServiceRequest, success: str, *, form: RatingForm | None = None
) -> bool:
    """评单 from a posted rating form; True once the rating is saved. Errors go to the messages
    (a form passed in, already checked by its page, shows its own)."""
    form = form if form is not None else RatingForm(request.POST)
    if not form.is_valid():
        form_errors(request, form)
        return False
    return attempt(
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


def cancel(
    request: AuthenticatedHttpRequest,
    service_request: ServiceRequest,
    form: ReasonForm | RequiredReasonForm,
    success: str,
) -> None:
    if not form.is_valid():
        form_errors(request, form)
        return
    attempt(
        request,
        lambda: dispatch_services.request_cancel(
            request=service_request, actor=request.user, reason=form.cleaned_data["reason"]
        ),
        success,
    )


def staff_required(request: AuthenticatedHttpRequest) -> None:
    if not request.user.is_org_staff:
        raise Http404


def volunteer_required(request: AuthenticatedHttpRequest) -> None:
    if not request.user.is_volunteer:
        raise Http404
