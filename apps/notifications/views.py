from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from apps.core.typing import AuthenticatedHttpRequest

from . import services
from .messages import render as render_message
from .models import Kind, Notification
from .selectors import notifications_for, unread_count

# Which page a notification opens, by who it was written for. The pages are looked up by
# URL name only, so this app still depends on no other app's code.
_VOLUNTEER_KINDS = {Kind.OFFERED: "workflow:volunteer_offers", Kind.OFFER_CLOSED: "workflow:volunteer_tasks"}
_STAFF_KINDS = {
    Kind.NEW_REQUEST,
    Kind.NEW_IN_QUEUE,
    Kind.RETURNED_TO_QUEUE,
    Kind.VOLUNTEER_RELEASED,
    Kind.COMPLETED,
    Kind.ESCALATED,
}
# Sent to the resident and to staff alike.
_SHARED_KINDS = {Kind.ACCEPTED, Kind.CANCELLED}


def _link(notification: Notification, *, is_staff: bool) -> str | None:
    if notification.request_id is None:
        return None
    if notification.kind in _VOLUNTEER_KINDS:
        return reverse(_VOLUNTEER_KINDS[Kind(notification.kind)])
    if notification.kind in _STAFF_KINDS or (notification.kind in _SHARED_KINDS and is_staff):
        return reverse("workflow:staff_request_detail", args=[notification.request_id])
    return reverse("workflow:request_detail", args=[notification.request_id])


@login_required
def inbox(request: AuthenticatedHttpRequest) -> HttpResponse:
    page = Paginator(notifications_for(user=request.user), 30).get_page(request.GET.get("page"))
    is_staff = request.user.is_org_staff
    items = [(n, *render_message(n.kind, n.params, n.request_id), _link(n, is_staff=is_staff)) for n in page]
    return render(request, "notifications/inbox.html", {"page": page, "items": items})


@login_required
def badge(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The unread count in the header, refreshed by htmx."""
    return render(request, "notifications/_badge.html", {"unread": unread_count(user=request.user)})


@login_required
@require_POST
def read_all(request: AuthenticatedHttpRequest) -> HttpResponse:
    services.notifications_mark_all_read(user_id=request.user.id)
    return redirect("notifications:inbox")
