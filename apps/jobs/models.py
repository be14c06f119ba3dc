"""The outbox and work queue every background task goes through.

A web request never talks to the broker: it writes a :class:`Job` row in its own transaction.
A relay (Celery beat) publishes due rows to Celery; a worker claims each row with
``SELECT … FOR UPDATE SKIP LOCKED`` under a lease of seconds, runs it, and marks it done; a
failure is retried with exponential backoff, oldest first; a lease that runs out (the worker died)
hands the row back. The row, not the broker message, is the truth: a message lost with Redis,
or delivered twice, changes nothing."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class JobState(models.TextChoices):
    PENDING = "pending", _("待执行")
    RUNNING = "running", _("执行中")
    DONE = "done", _("已完成")
    DEAD = "dead", _("已放弃")


class Job(models.Model):
    """One piece of background work: the registered Celery task ``task`` applied to ``subject_id``."""

    task = models.CharField(_("任务"), max_length=80)
    subject_id = models.BigIntegerField(_("对象编号"), null=True, blank=True)
    state = models.CharField(_("状态"), max_length=10, choices=JobState.choices, default=JobState.PENDING)
    # Due time: now for new work, later for a retry after a failure (backoff).
    run_at = models.DateTimeField(_("计划执行时间"))
    attempts = models.PositiveSmallIntegerField(_("已尝试次数"), default=0)
    max_attempts = models.PositiveSmallIntegerField(_("最多尝试次数"), default=12)
    # When the relay last handed the row to the broker; a message lost since is re-sent after a few seconds.
    published_at = models.DateTimeField(_("投递时间"), null=True, blank=True)
    claimed_at = models.DateTimeField(_("领取时间"), null=True, blank=True)
    lease_expires_at = models.DateTimeField(_("租约到期"), null=True, blank=True)
    claimed_by = models.CharField(_("执行者"), max_length=120, blank=True)
    last_error = models.TextField(_("最近错误"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("后台任务")
        verbose_name_plural = pgettext_lazy("plural", "后台任务")
        ordering = ["run_at", "id"]
        indexes = [
            # The relay's and the workers' scan: due pending rows, oldest first.
            models.Index(fields=["run_at", "id"], condition=Q(state="pending"), name="job_pending_due"),
            # The sweep's scan: running rows whose lease ran out.
            models.Index(fields=["lease_expires_at"], condition=Q(state="running"), name="job_running_lease"),
            models.Index(fields=["task", "subject_id"], name="job_task_subject"),
            # The purge of finished rows.
            models.Index(fields=["finished_at"], condition=Q(state="done"), name="job_done_finished"),
        ]
        constraints = [
            # At most one pending row per piece of work: enqueueing it again is a no-op.
            models.UniqueConstraint(
                fields=["task", "subject_id"], condition=Q(state="pending"), name="job_one_pending_per_subject"
            ),
            models.CheckConstraint(condition=Q(state__in=JobState.values), name="job_state_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.task}({self.subject_id}) {self.state}"


class WorkerHeartbeat(models.Model):
    """A Celery worker's sign of life, written every few seconds by the worker itself, so the
    health view can say which workers were seen without asking the broker."""

    hostname = models.CharField(_("主机"), max_length=160, primary_key=True)
    pid = models.PositiveIntegerField(_("进程号"))
    started_at = models.DateTimeField(_("启动时间"))
    last_seen = models.DateTimeField(_("最近心跳"), db_index=True)

    class Meta:
        verbose_name = _("工作进程心跳")
        verbose_name_plural = pgettext_lazy("plural", "工作进程心跳")

    def __str__(self) -> str:
        return self.hostname
