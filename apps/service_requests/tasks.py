from celery import shared_task

from . import services


@shared_task(name="service_requests.escalate_overdue", acks_late=True, time_limit=300)
def escalate_overdue() -> int:
    return services.requests_escalate_overdue()


@shared_task(name="service_requests.close_unrated", acks_late=True, time_limit=300)
def close_unrated() -> int:
    return services.requests_close_unrated()
