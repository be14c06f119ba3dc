from celery import shared_task

from . import services


# Celery's @shared_task is untyped.
@shared_task(name="ratings.escalate_overdue_follow_ups", acks_late=True, time_limit=300)  # type: ignore[untyped-decorator]
def escalate_overdue_follow_ups() -> int:
    return services.follow_ups_escalate_overdue()
