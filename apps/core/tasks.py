from celery import shared_task

from . import idempotency


# Celery's @shared_task is untyped.
@shared_task(name="core.purge_idempotency_keys", acks_late=True, time_limit=300)  # type: ignore[untyped-decorator]
def purge_idempotency_keys() -> int:
    return idempotency.idempotency_keys_purge()
