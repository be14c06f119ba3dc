from celery import shared_task

from . import services


# Run by the job queue (a notifications.deliver_email job per e-mail): a failure raises, and the
# job is retried with backoff. The limit bounds a hung mail server (EMAIL_TIMEOUT is per call).
@shared_task(
    name="notifications.deliver_email",
    acks_late=True,
    time_limit=services.EMAIL_SEND_TIME_LIMIT,
    soft_time_limit=services.EMAIL_SEND_TIME_LIMIT - 5,
)
def deliver_email(notification_id: int) -> bool:
    return services.notification_deliver_email(notification_id=notification_id)
