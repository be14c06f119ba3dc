"""The queue's health: a page for the centre's dispatchers and administrators, and a JSON view
for monitoring (no login; counts only)."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from apps.core.typing import AuthenticatedHttpRequest

from .selectors import queue_health

PROBLEMS = {
    "no_worker": _("最近60秒内没有工作进程报到：后台任务无人执行。"),
    "backlog": _("最早的到期任务已等待超过60秒：队列积压。"),
}


@login_required
@require_GET
def queue_health_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    # The queue serves the whole city: only the centre's dispatchers and administrators see it.
    user = request.user
    if not (user.is_superuser or user.is_dispatcher):
        raise Http404
    health = queue_health()
    problems = [PROBLEMS[code] for code in health.problems]
    return render(request, "jobs/health.html", {"health": health, "problems": problems})


@never_cache
@require_GET
def queue_health_json(request: HttpRequest) -> JsonResponse:
    """200 when healthy, 503 when no worker was seen lately or the oldest due job waits too long."""
    health = queue_health()
    body = {
        "healthy": health.healthy,
        "problems": health.problems,
        "checked_at": health.checked_at.isoformat(),
        "depth": health.depth,
        "pending": health.pending,
        "running": health.running,
        "dead_last_day": health.dead_last_day,
        "oldest_due_seconds": round(health.oldest_due_seconds, 1),
        "workers_seen": len(health.workers),
        "tasks": {
            t.task: {"due": t.due, "pending": t.pending, "running": t.running, "dead_last_day": t.dead_last_day}
            for t in health.tasks
        },
    }
    return JsonResponse(body, status=200 if health.healthy else 503)
