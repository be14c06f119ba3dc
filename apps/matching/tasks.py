from celery import shared_task

# Filled in by the matching engine: ``matching.advance`` (one request's next step) and
# ``matching.sweep`` (requests whose offers all ended with nobody noticing).


@shared_task(name="matching.advance", acks_late=True, time_limit=20, soft_time_limit=15)  # type: ignore[untyped-decorator]
def advance(request_id: int) -> None:
    from . import services

    services.matching_advance(request_id=request_id)
