from celery import shared_task

from . import services


@shared_task(name="notifications.deliver_email", acks_late=True, time_limit=60, soft_time_limit=50)
def deliver_email(notification_id: int) -> bool:
    return services.notification_deliver_email(notification_id=notification_id)


@shared_task(name="notifications.redeliver_pending", acks_late=True, time_limit=120)
def redeliver_pending() -> int:
    return services.notifications_redeliver_pending()
