from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from apps.organisation.models import OrgNode
from apps.service_requests.models import ServiceRequest


class Tag(models.TextChoices):
    FRIENDLY = "friendly", _("态度热情")
    ON_TIME = "on_time", _("准时守约")
    SKILLED = "skilled", _("专业高效")
    PATIENT = "patient", _("耐心细致")
    LATE = "late", _("迟到")
    UNSOLVED = "unsolved", _("问题未解决")


# 评单 in words as well as stars: the star glyphs alone mean nothing to a screen reader, and an
# elder reads the word before counting stars.
SCORE_WORDS = {
    5: pgettext_lazy("rating", "非常满意"),
    4: pgettext_lazy("rating", "满意"),
    3: pgettext_lazy("rating", "一般"),
    2: pgettext_lazy("rating", "不满意"),
    1: pgettext_lazy("rating", "非常不满意"),
}

# A rating with one of these tags is a complaint, whatever its score: it opens a follow-up case.
COMPLAINT_TAGS = frozenset({Tag.LATE, Tag.UNSOLVED})
# A score at or below this opens a follow-up case.
LOW_SCORE = 2


class FollowUpReason(models.TextChoices):
    LOW_RATING = "low_rating", _("评分较低")
    COMPLAINT = "complaint", _("投诉标签")
    ROUTINE = "routine", _("例行抽查回访")


class Rating(models.Model):
    """评单: once per request, by the requester or by staff on their behalf after a 回访 call."""

    request = models.OneToOneField(
        ServiceRequest, on_delete=models.CASCADE, related_name="rating", verbose_name=_("工单")
    )
    score = models.PositiveSmallIntegerField(_("评分"))
    tags = models.JSONField(_("标签"), default=list, blank=True)
    comment = models.CharField(_("评语"), max_length=500, blank=True)
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("评价人")
    )
    on_behalf = models.BooleanField(_("工作人员代评"), default=False)
    created_at = models.DateTimeField(_("评价时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("评价")
        verbose_name_plural = pgettext_lazy("plural", "评价")
        constraints = [models.CheckConstraint(condition=Q(score__gte=1) & Q(score__lte=5), name="rating_score_1_to_5")]

    def __str__(self) -> str:
        return f"{self.request_id}: {self.score}"

    @property
    def follow_up_reason(self) -> str | None:
        """Why this rating calls for a 回访, if it does: a low score first, else a complaint tag."""
        if self.score <= LOW_SCORE:
            return FollowUpReason.LOW_RATING
        if COMPLAINT_TAGS.intersection(self.tags):
            return FollowUpReason.COMPLAINT
        return None

    @property
    def score_word(self) -> str:
        return str(SCORE_WORDS.get(self.score, self.score))

    @property
    def tag_labels(self) -> list[str]:
        """The tags in the reader's language (a tag no longer known is shown as stored)."""
        return [str(Tag(tag).label) if tag in Tag.values else str(tag) for tag in self.tags]


class FollowUpStatus(models.TextChoices):
    """A case moves once, open → closed (a conditional UPDATE under the row's lock); closing is
    final: a new concern about the same service is a new case."""

    OPEN = "open", _("待回访")
    CLOSED = "closed", _("已办结")


class FollowUpOutcome(models.TextChoices):
    RESOLVED = "resolved", _("问题已解决")
    EXPLAINED = "explained", _("已解释说明，群众认可")
    REDO = "redo", _("已安排重新服务")
    UNRESOLVED = "unresolved", _("未能解决")


class FollowUp(models.Model):
    """回访工单: station staff call the resident back about a service (a low rating, a complaint,
    or a routine sample), and close the case with an outcome. Its calls are its history."""

    request = models.ForeignKey(
        ServiceRequest, on_delete=models.CASCADE, related_name="follow_ups", verbose_name=_("工单")
    )
    # The station that owned the request when the case opened: the one that must call back.
    station = models.ForeignKey(OrgNode, on_delete=models.PROTECT, related_name="+", verbose_name=_("承办阵地"))
    reason = models.CharField(_("回访原因"), max_length=12, choices=FollowUpReason.choices)
    status = models.CharField(_("状态"), max_length=8, choices=FollowUpStatus.choices, default=FollowUpStatus.OPEN)
    opened_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    due_at = models.DateTimeField(_("回访期限"))
    escalated_at = models.DateTimeField(_("超期上报时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("办结人"),
    )
    # Whether the resident was reached on the call that closed the case (null while open).
    reached = models.BooleanField(_("联系上群众"), null=True, blank=True)
    outcome = models.CharField(_("回访结果"), max_length=12, choices=FollowUpOutcome.choices, blank=True)
    notes = models.CharField(_("办结说明"), max_length=1000, blank=True)

    class Meta:
        verbose_name = _("回访工单")
        verbose_name_plural = pgettext_lazy("plural", "回访工单")
        ordering = ["due_at", "id"]
        # ``request`` has its own index as a foreign key (cases of a request, and the sample's
        # "has no case yet").
        indexes = [
            # The sweep and the 待回访 tab: open cases by deadline, without reading closed ones.
            models.Index(fields=["due_at", "id"], condition=Q(status="open"), name="follow_up_open_due"),
            models.Index(fields=["station", "status"], name="follow_up_station_status"),
        ]
        constraints = [
            # One open case per request at a time, whatever opened it.
            models.UniqueConstraint(fields=["request"], condition=Q(status="open"), name="follow_up_one_open"),
            models.CheckConstraint(condition=Q(status__in=FollowUpStatus.values), name="follow_up_status_valid"),
            models.CheckConstraint(condition=Q(reason__in=FollowUpReason.values), name="follow_up_reason_valid"),
            # Open: no outcome yet. Closed: when, and with which outcome (one of the choices).
            models.CheckConstraint(
                condition=(Q(status="open") & Q(closed_at__isnull=True) & Q(outcome=""))
                | (Q(status="closed") & Q(closed_at__isnull=False) & Q(outcome__in=FollowUpOutcome.values)),
                name="follow_up_closed_with_outcome",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.request_id}: {self.reason} ({self.status})"

    def is_overdue_at(self, now: datetime) -> bool:
        return self.status == FollowUpStatus.OPEN and self.due_at < now

    @property
    def is_overdue(self) -> bool:
        """Still open past its deadline."""
        return self.is_overdue_at(timezone.now())


class FollowUpCall(models.Model):
    """One call of a 回访 (reached or not), by the staff member who made it."""

    case = models.ForeignKey(FollowUp, on_delete=models.CASCADE, related_name="calls", verbose_name=_("回访工单"))
    called_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("回访人")
    )
    called_at = models.DateTimeField(_("回访时间"), auto_now_add=True)
    reached = models.BooleanField(_("联系上群众"))
    notes = models.CharField(_("回访记录"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("回访记录")
        verbose_name_plural = pgettext_lazy("plural", "回访记录")
        ordering = ["called_at", "id"]

    def __str__(self) -> str:
        return f"{self.case_id}: {self.called_at:%Y-%m-%d %H:%M}"
