from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe

from apps.core.typing import AuthenticatedHttpRequest

from . import services
from .messages import render as render_message
from .selectors import inbox_counts, notification_of, notifications_for, unread_count


# Never cached, not even for the back button: after opening a message and coming back, the inbox
# and the header's count show it read.
@never_cache
@login_required
def inbox(request: AuthenticatedHttpRequest) -> HttpResponse:
    counts = inbox_counts(user=request.user)
    paginator = Paginator(notifications_for(user=request.user), 30)
    # The pager's total comes with the unread count, from one query rather than two.
    paginator.count = counts.total
    page = paginator.get_page(request.GET.get("page"))
    items = [(n, *render_message(n.kind, n.params, n.request_id)) for n in page]
    context = {"page": page, "items": items, "unread": counts.unread}
    return render(request, "notifications/inbox.html", context)


@never_cache
@login_required
def badge(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The unread count in the header, refreshed by htmx."""
    return render(request, "notifications/_badge.html", {"unread": unread_count(user=request.user)})


@never_cache
@login_required
@require_safe
def open_notification(request: AuthenticatedHttpRequest, notification_id: int) -> HttpResponse:
    """Opening a message marks it read and goes to the page it is about, or back to the inbox
    when it is about no page. A link (followed from the inbox), so a GET: marking one's own
    message read is idempotent and changes nothing anyone else sees."""
    notification = notification_of(user=request.user, notification_id=notification_id)
    services.notification_mark_read(notification=notification)
    # Links are written by the apps for pages of this site; anything else is not followed.
    link = notification.link
    if link and url_has_allowed_host_and_scheme(link, allowed_hosts=None):
        return redirect(link)
    return redirect("notifications:inbox")


@login_required
@require_POST
def read_all(request: AuthenticatedHttpRequest) -> HttpResponse:
    services.notifications_mark_all_read(user_id=request.user.id)
    return redirect("notifications:inbox")
