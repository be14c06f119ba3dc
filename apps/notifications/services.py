"""Creating and delivering notifications. Called by every other app; calls none of them."""

import logging
from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db.models import F
from django.utils import timezone, translation

from apps.core.tasks_util import enqueue_on_commit

from .messages import render
from .models import EmailStatus, Notification

logger = logging.getLogger(__name__)
MAX_EMAIL_ATTEMPTS = 5
# By name: tasks.py imports this module, so this module does not import tasks.py.
DELIVER_EMAIL_TASK = "notifications.deliver_email"


def notify(
    *,
    recipient_ids: Iterable[int] = (),
    kind: str,
    request_id: int | None = None,
    params: dict[str, Any],
    link: str = "",
    links: Mapping[int, str] | None = None,
) -> list[Notification]:
    """Write one in-app notification per recipient, in the caller's transaction, and enqueue
    the e-mail of those who gave an address for after the commit. ``link`` is the page the
    notification opens for ``recipient_ids`` (the caller knows which page is theirs); ``links``
    gives recipients whose page differs theirs, in the same two queries."""
    targets = {uid: link for uid in recipient_ids} | dict(links or {})
    ids = sorted(targets)
    if not ids:
        return []
    User = get_user_model()
    with_email = set(User.objects.filter(id__in=ids).exclude(email="").values_list("id", flat=True))
    rows = Notification.objects.bulk_create(
        [
            Notification(
                recipient_id=uid,
                kind=kind,
                request_id=request_id,
                params=params,
                link=targets[uid],
                email_status=EmailStatus.PENDING if uid in with_email else EmailStatus.NONE,
            )
            for uid in ids
        ]
    )
    for row in rows:
        if row.email_status == EmailStatus.PENDING:
            enqueue_on_commit(DELIVER_EMAIL_TASK, row.id)
    return rows


def notification_deliver_email(*, notification_id: int) -> bool:
    """Send a notification's e-mail once. Claims the row with a conditional UPDATE first, so
    a redelivered task or a second worker does nothing. Returns True if this call sent it.
    Runs outside any transaction: the mail server is network I/O."""
    claimed = Notification.objects.filter(
        id=notification_id,
        email_status__in=[EmailStatus.PENDING, EmailStatus.FAILED],
        email_attempts__lt=MAX_EMAIL_ATTEMPTS,
    ).update(email_status=EmailStatus.SENDING, email_attempts=F("email_attempts") + 1, email_claimed_at=timezone.now())
    if not claimed:
        return False
    notification = Notification.objects.select_related("recipient").get(id=notification_id)
    with translation.override(settings.LANGUAGE_CODE):
        title, body = render(notification.kind, notification.params, notification.request_id)
    try:
        send_mail(
            subject=f"[涿州i志愿] {title}",
            message=body,
            from_email=None,
            recipient_list=[notification.recipient.email],
        )
    except Exception:
        logger.warning("e-mail for notification %s failed", notification_id, exc_info=True)
        Notification.objects.filter(id=notification_id, email_status=EmailStatus.SENDING).update(
            email_status=EmailStatus.FAILED
        )
        return False
    Notification.objects.filter(id=notification_id, email_status=EmailStatus.SENDING).update(
        email_status=EmailStatus.SENT, email_sent_at=timezone.now()
    )
    return True


def notifications_redeliver_pending() -> int:
    """Re-enqueue e-mails a lost message left behind (pending, failed, or stuck sending)."""
    cutoff = timezone.now() - timedelta(seconds=settings.NOTIFICATION_REDELIVER_AFTER_SECONDS)
    # A row stuck in "sending" belongs to a worker that died mid-send; hand it back.
    Notification.objects.filter(email_status=EmailStatus.SENDING, email_claimed_at__lt=cutoff).update(
        email_status=EmailStatus.FAILED
    )
    ids = list(
        Notification.objects.filter(
            email_status__in=[EmailStatus.PENDING, EmailStatus.FAILED],
            email_attempts__lt=MAX_EMAIL_ATTEMPTS,
            created_at__lt=cutoff,
        ).values_list("id", flat=True)[:500]
    )
    for notification_id in ids:
        enqueue_on_commit(DELIVER_EMAIL_TASK, notification_id)
    return len(ids)


def notification_mark_read(*, notification: Notification) -> None:
    Notification.objects.filter(id=notification.id, read_at__isnull=True).update(read_at=timezone.now())


def notifications_mark_all_read(*, user_id: int) -> int:
    return Notification.objects.filter(recipient_id=user_id, read_at__isnull=True).update(read_at=timezone.now())
