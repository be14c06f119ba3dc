from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from .middleware import remember_elder_mode
from .typing import AuthenticatedHttpRequest


@login_required
def home(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Send each person to the page they use most."""
    user = request.user
    if user.is_org_staff:
        return redirect("workflow:staff_queue")
    if user.is_volunteer:
        return redirect("workflow:volunteer_offers")
    return redirect("workflow:my_requests")


@require_POST
def toggle_elder_mode(request: HttpRequest) -> HttpResponse:
    """长辈版: larger text and buttons. Kept on the account of whoever is logged in, and in this
    browser for a year (so the log-in page too is large for the person who chose it)."""
    target = request.POST.get("next") or "/"
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    response = HttpResponseRedirect(target)
    enabled = not getattr(request, "elder_mode", False)
    user = request.user
    if user.is_authenticated:
        user.elder_mode = enabled
        user.save(update_fields=["elder_mode"])
    remember_elder_mode(response, enabled=enabled)
    return response
