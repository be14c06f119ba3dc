from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from apps.service_requests.models import ServiceRequest


class Tag(models.TextChoices):
    FRIENDLY = "friendly", _("态度热情")
    ON_TIME = "on_time", _("准时守约")
    SKILLED = "skilled", _("专业高效")
    PATIENT = "patient", _("耐心细致")
    LATE = "late", _("迟到")
    UNSOLVED = "unsolved", _("问题未解决")


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
