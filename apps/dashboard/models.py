"""The dashboard's own rows: one narrow fact per request, which every KPI reads, and the
monthly reports (每月调度) kept as workbooks."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from apps.organisation.models import OrgNode, Place, ServiceCategory
from apps.service_requests.models import ServiceRequest, Status, Urgency


class RequestFact(models.Model):
    """What the KPIs count and time about one request, in about 100 bytes: the request row itself
    is wide (encrypted address and contact, description), and a year of KPIs reads a third of a
    million of these. Derived, never edited: :func:`apps.dashboard.facts.facts_refresh` rewrites a
    row from the request, its events, offers and rating, a moment after any of them changes (a
    ``dashboard.fact`` job enqueued by the change), so a lost or repeated refresh leaves nothing
    wrong. Durations are whole seconds from submission to the first such event."""

    request = models.OneToOneField(
        ServiceRequest, on_delete=models.CASCADE, primary_key=True, related_name="+", verbose_name=_("工单")
    )
    created_at = models.DateTimeField(_("提交时间"))
    # The local (Asia/Shanghai) calendar day of submission: what "by day/week/month" groups on.
    day = models.DateField(_("提交日期"))
    township = models.ForeignKey(Place, on_delete=models.CASCADE, related_name="+", db_index=False)
    village = models.ForeignKey(Place, on_delete=models.CASCADE, related_name="+", db_index=False)
    station = models.ForeignKey(OrgNode, on_delete=models.CASCADE, related_name="+", db_index=False)
    category = models.ForeignKey(ServiceCategory, on_delete=models.CASCADE, related_name="+", db_index=False)
    urgency = models.CharField(max_length=10, choices=Urgency.choices)
    status = models.CharField(max_length=12, choices=Status.choices)
    # Why it was rejected or cancelled: the system reason's code, or "typed" for staff's own words.
    reason_code = models.CharField(max_length=40, blank=True)
    review_seconds = models.PositiveIntegerField(null=True)  # 审核: submitted → queued/rejected by staff
    offer_seconds = models.PositiveIntegerField(null=True)  # first offer sent
    accept_seconds = models.PositiveIntegerField(null=True)  # fully accepted
    complete_seconds = models.PositiveIntegerField(null=True)  # service completed
    completed_at = models.DateTimeField(null=True)
    hours = models.DecimalField(max_digits=7, decimal_places=1, default=0)
    volunteers = models.PositiveSmallIntegerField(default=0)  # who checked out of it
    score = models.PositiveSmallIntegerField(null=True)
    # The rating's tags, one bit each in the order of apps.ratings.models.Tag.
    tag_bits = models.PositiveIntegerField(default=0)
    rated_at = models.DateTimeField(null=True)

    class Meta:
        verbose_name = _("工单统计")
        verbose_name_plural = pgettext_lazy("plural", "工单统计")
        indexes = [
            models.Index(fields=["day"], name="fact_day"),
            models.Index(fields=["township", "day"], name="fact_township_day"),
            models.Index(fields=["village", "day"], name="fact_village_day"),
            models.Index(fields=["completed_at"], name="fact_completed"),
            models.Index(fields=["rated_at"], name="fact_rated"),
        ]

    def __str__(self) -> str:
        return f"{self.request_id}"


class ReportState(models.TextChoices):
    PENDING = "pending", _("排队中")
    RUNNING = "running", _("生成中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("生成失败")


class MonthlyReport(models.Model):
    """每月调度: the month's workbook, for the whole city or one township office's township.
    Written by beat on the first of each month and on demand; the file is kept in the row."""

    month = models.DateField(_("月份"))  # the first day of the month
    township = models.ForeignKey(
        Place, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("乡镇/街道")
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("申请人"),
    )
    state = models.CharField(_("状态"), max_length=10, choices=ReportState.choices, default=ReportState.PENDING)
    progress = models.PositiveSmallIntegerField(_("进度"), default=0)  # percent
    error = models.CharField(_("错误"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("申请时间"), auto_now_add=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    workbook = models.BinaryField(_("工作簿"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("月度调度报表")
        verbose_name_plural = pgettext_lazy("plural", "月度调度报表")
        ordering = ["-month", "-created_at", "-id"]
        indexes = [models.Index(fields=["-month", "-created_at"], name="report_recent")]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m}"
