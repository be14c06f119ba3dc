from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from apps.organisation.models import OrgNode


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("导入中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")


FINISHED_STATUSES = (JobStatus.DONE, JobStatus.FAILED)


class ImportJob(models.Model):
    """One uploaded roster workbook and the progress of its import. The workbook itself is kept
    in the database (not on a disk the worker may not share) only until the import is over: it
    holds ID numbers and phones in clear, so it is dropped as soon as it is no longer needed.

    Counters are in data rows of the workbook (blank rows and the template's example row are not
    counted): ``done`` rows were looked at, of which ``imported`` became volunteers,
    ``skipped_duplicates`` were already registered (same ID) and ``errors`` were refused (their
    reasons are :class:`ImportRowError` rows). ``done`` is also where a retried task resumes."""

    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("上传人")
    )
    # The unit that imports (and so verifies) the volunteers; None for an administrator.
    node = models.ForeignKey(
        OrgNode, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("导入单位")
    )
    file_name = models.CharField(_("文件名"), max_length=200)
    content = models.BinaryField(_("文件内容"), null=True, editable=False)
    status = models.CharField(_("状态"), max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    total = models.PositiveIntegerField(_("数据行数"), null=True, blank=True)
    done = models.PositiveIntegerField(_("已处理行数"), default=0)
    imported = models.PositiveIntegerField(_("导入成功"), default=0)
    skipped_duplicates = models.PositiveIntegerField(_("已注册跳过"), default=0)
    errors = models.PositiveIntegerField(_("错误行数"), default=0)
    failure_code = models.CharField(_("失败原因"), max_length=40, blank=True)
    failure_params = models.JSONField(default=dict, blank=True, editable=False)
    # A fresh token per run: a batch commits only for the run that holds the job.
    claim = models.CharField(max_length=32, blank=True, editable=False)
    attempts = models.PositiveSmallIntegerField(_("运行次数"), default=0)
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True, editable=False)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("名册导入")
        verbose_name_plural = pgettext_lazy("plural", "名册导入")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "heartbeat_at"], name="roster_job_status")]

    def __str__(self) -> str:
        return f"#{self.id} {self.file_name}"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_STATUSES

    @property
    def percent(self) -> int:
        if self.status == JobStatus.DONE:
            return 100
        if not self.total:
            return 0
        return min(100, self.done * 100 // self.total)


class ImportRowError(models.Model):
    """Why one cell (or row) of a roster was refused: a message key and its parameters,
    translated for whoever downloads the error workbook (``apps.roster.messages``)."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="row_errors")
    row = models.PositiveIntegerField(_("行号"))  # as Excel numbers it: the header is row 1
    column = models.CharField(_("列"), max_length=20)  # a key of apps.roster.columns.COLUMNS, or ""
    code = models.CharField(_("错误代码"), max_length=40)
    params = models.JSONField(_("参数"), default=dict, blank=True)

    class Meta:
        verbose_name = _("名册错误行")
        verbose_name_plural = pgettext_lazy("plural", "名册错误行")
        ordering = ["job", "row", "id"]
        indexes = [models.Index(fields=["job", "row"], name="roster_error_job_row")]

    def __str__(self) -> str:
        return f"{self.row}: {self.code}"
