from celery import shared_task

from . import history, services


@shared_task(name="matching.advance", acks_late=True, time_limit=20, soft_time_limit=15)  # type: ignore[untyped-decorator]
def advance(request_id: int) -> None:
    """One request's next step (idempotent: see ``services.matching_advance``)."""
    services.matching_advance(request_id=request_id)


@shared_task(name="matching.sweep", acks_late=True, time_limit=60, soft_time_limit=50)  # type: ignore[untyped-decorator]
def sweep() -> int:
    """Requests whose offers all ended with no step queued for them (a lost message or worker)."""
    return services.matching_sweep()


@shared_task(name="matching.history", acks_late=True, time_limit=20, soft_time_limit=15)  # type: ignore[untyped-decorator]
def history_of_request(request_id: int) -> int:
    """Recount the history of the volunteers with an offer on the request (idempotent)."""
    return history.history_refresh_request(request_id=request_id)


@shared_task(name="matching.history_all", acks_late=True, time_limit=600, soft_time_limit=590)  # type: ignore[untyped-decorator]
def history_all() -> int:
    """Beat: recount everyone's history as the ranking's windows slide."""
    return history.history_refresh()
