from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from apps.core.typing import AuthenticatedHttpRequest

from . import services
from .messages import render as render_message
from .selectors import notifications_for, unread_count


@login_required
def inbox(request: AuthenticatedHttpRequest) -> HttpResponse:
    page = Paginator(notifications_for(user=request.user), 30).get_page(request.GET.get("page"))
    items = [(n, *render_message(n.kind, n.params, n.request_id), n.link or None) for n in page]
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
