"""Creating and delivering notifications. Called by every other app; calls none of them."""

from collections.abc import Iterable, Mapping
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db.models import F, Q
from django.utils import timezone, translation

from apps.jobs.services import jobs_enqueue_new

from .messages import render
from .models import EmailStatus, Notification

# By name: tasks.py imports this module, so this module does not import tasks.py.
DELIVER_EMAIL_TASK = "notifications.deliver_email"
# The deliver task's hard time limit (tasks.py): a send claimed longer ago than this was killed
# with its worker, so the e-mail may be claimed again (its job's lease, longer still, ran out).
EMAIL_SEND_TIME_LIMIT = 20


def notify(
    *,
    recipient_ids: Iterable[int] = (),
    kind: str,
    request_id: int | None = None,
    params: dict[str, Any],
    link: str = "",
    links: Mapping[int, str] | None = None,
) -> list[Notification]:
    """Write one in-app notification per recipient, and a ``notifications.deliver_email`` job
    for each of those who gave an e-mail address, all in the caller's transaction. ``link`` is the page the
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
    jobs_enqueue_new(DELIVER_EMAIL_TASK, [row.id for row in rows if row.email_status == EmailStatus.PENDING])
    return rows


def notification_deliver_email(*, notification_id: int) -> bool:
    """Send a notification's e-mail once; run by its job (``notifications.deliver_email``).

    Claims the row with a conditional UPDATE first (pending, failed, or left sending by a run
    killed more than ``EMAIL_SEND_TIME_LIMIT`` ago), so a duplicate run does nothing. Returns
    True if this call sent it, False if there was nothing to send. If the mail server refuses
    or cannot be reached, the row is marked failed and the error is raised: the job queue
    retries it with backoff. Runs outside any transaction: the mail server is network I/O."""
    now = timezone.now()
    claimable = Q(email_status__in=[EmailStatus.PENDING, EmailStatus.FAILED]) | Q(
        email_status=EmailStatus.SENDING, email_claimed_at__lt=now - timedelta(seconds=EMAIL_SEND_TIME_LIMIT)
    )
    claimed = Notification.objects.filter(claimable, id=notification_id).update(
        email_status=EmailStatus.SENDING, email_attempts=F("email_attempts") + 1, email_claimed_at=now
    )
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
        Notification.objects.filter(id=notification_id, email_status=EmailStatus.SENDING, email_claimed_at=now).update(
            email_status=EmailStatus.FAILED
        )
        raise
    Notification.objects.filter(id=notification_id, email_status=EmailStatus.SENDING, email_claimed_at=now).update(
        email_status=EmailStatus.SENT, email_sent_at=timezone.now()
    )
    return True


def notification_mark_read(*, notification: Notification) -> None:
    Notification.objects.filter(id=notification.id, read_at__isnull=True).update(read_at=timezone.now())


def notifications_mark_all_read(*, user_id: int) -> int:
    return Notification.objects.filter(recipient_id=user_id, read_at__isnull=True).update(read_at=timezone.now())
