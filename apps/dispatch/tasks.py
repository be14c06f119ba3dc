from celery import shared_task

from . import services


@shared_task(name="dispatch.expire_offers", acks_late=True, time_limit=300, soft_time_limit=280)
def expire_offers() -> int:
    return services.offers_expire()
