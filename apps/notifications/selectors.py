from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404

from apps.accounts.models import User

from .models import Notification


def notifications_for(*, user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user)


def notification_of(*, user: User, notification_id: int) -> Notification:
    """One of ``user``'s own notifications; anyone else's, or none, is a 404."""
    return get_object_or_404(notifications_for(user=user), id=notification_id)


def unread_count(*, user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()


@dataclass(frozen=True)
class InboxCounts:
    total: int
    unread: int


def inbox_counts(*, user: User) -> InboxCounts:
    """How many notifications ``user`` has, for the pager, and how many are unread, in one query."""
    counts = notifications_for(user=user).aggregate(
        total=Count("id"), unread=Count("id", filter=Q(read_at__isnull=True))
    )
    return InboxCounts(total=counts["total"], unread=counts["unread"])
