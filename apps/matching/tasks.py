from celery import shared_task

from . import services


@shared_task(name="matching.advance", acks_late=True, time_limit=20, soft_time_limit=15)  # type: ignore[untyped-decorator]
def advance(request_id: int) -> None:
    """One request's next step (idempotent: see ``services.matching_advance``)."""
    services.matching_advance(request_id=request_id)


@shared_task(name="matching.sweep", acks_late=True, time_limit=60, soft_time_limit=50)  # type: ignore[untyped-decorator]
def sweep() -> int:
    """Requests whose offers all ended with no step queued for them (a lost message or worker)."""
    return services.matching_sweep()
