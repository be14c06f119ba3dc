from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Kind(models.TextChoices):
    RECEIVED = "received", _("需求已收到")
    NEW_REQUEST = "new_request", _("新的群众需求")
    QUEUED = "queued", _("需求已受理")
    NEW_IN_QUEUE = "new_in_queue", _("新的待派单需求")
    REJECTED = "rejected", _("需求未受理")
    OFFERED = "offered", _("新的服务邀请")
    ACCEPTED = "accepted", _("志愿者已接单")
    OFFER_CLOSED = "offer_closed", _("邀请已结束")
    RETURNED_TO_QUEUE = "returned_to_queue", _("工单退回待派单")
    VOLUNTEER_RELEASED = "volunteer_released", _("志愿者无法前往")
    IN_SERVICE = "in_service", _("志愿者已到达")
    COMPLETED = "completed", _("服务已完成")
    PLEASE_RATE = "please_rate", _("请评价服务")
    CANCELLED = "cancelled", _("工单已取消")
    ESCALATED = "escalated", _("工单超时上报")
    # Joining the platform: volunteer registration, teams, roster import, SMS in development.
    APPLICATION_SUBMITTED = "application_submitted", _("新的志愿者注册申请")
    APPLICATION_APPROVED = "application_approved", _("志愿者注册已通过")
    APPLICATION_REJECTED = "application_rejected", _("志愿者注册未通过")
    TEAM_JOIN_REQUESTED = "team_join_requested", _("新的入队申请")
    TEAM_JOIN_APPROVED = "team_join_approved", _("入队申请已通过")
    TEAM_JOIN_REJECTED = "team_join_rejected", _("入队申请未通过")
    TEAM_INVITED = "team_invited", _("服务队邀请")
    TEAM_INVITE_ANSWERED = "team_invite_answered", _("服务队邀请已答复")
    TEAM_MEMBER_REMOVED = "team_member_removed", _("已移出服务队")
    ROSTER_IMPORTED = "roster_imported", _("名册导入完成")
    SMS_DEVELOPMENT = "sms_development", _("短信（开发环境）")
    # The matching queue: broadcast, team dispatch, on the way, a request that needs a person.
    OPEN_TASK = "open_task", _("新的抢单任务")
    TEAM_OFFERED = "team_offered", _("服务队收到派单")
    TEAM_ASSIGNED = "team_assigned", _("队长为您安排了任务")
    TEAM_MEMBER_DECLINED = "team_member_declined", _("队员无法承接任务")
    ON_THE_WAY = "on_the_way", _("志愿者已出发")
    NEEDS_PERSON = "needs_person", _("工单需人工派单")
    MATCH_ESCALATED = "match_escalated", _("无人接单，已上报")
    # Follow-up of low ratings and complaints (回访, apps.ratings).
    FOLLOW_UP_OPENED = "follow_up_opened", _("新的回访任务")
    FOLLOW_UP_CLOSED = "follow_up_closed", _("回访结果")
    FOLLOW_UP_ESCALATED = "follow_up_escalated", _("回访超期上报")


class EmailStatus(models.TextChoices):
    NONE = "none", _("无需发送")
    PENDING = "pending", _("待发送")
    SENDING = "sending", _("发送中")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败")


class Notification(models.Model):
    """An in-app message, and the outbox row for its e-mail. Written in the same transaction
    as the change it reports, so a crash can lose neither; the worker sends the e-mail."""

    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(_("类型"), max_length=24, choices=Kind.choices)
    # The request it is about, by id only: notifications depend on no other app.
    request_id = models.BigIntegerField(_("工单号"), null=True, blank=True)
    params = models.JSONField(_("参数"), default=dict, blank=True)
    # The page it opens, chosen by the app that wrote it for these recipients.
    link = models.CharField(_("链接"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)
    email_status = models.CharField(max_length=10, choices=EmailStatus.choices, default=EmailStatus.NONE)
    email_attempts = models.PositiveSmallIntegerField(default=0)
    # When a worker claimed the e-mail; a claim older than the redelivery delay is a dead worker's.
    email_claimed_at = models.DateTimeField(null=True, blank=True)
    email_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = pgettext_lazy("plural", "通知")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["recipient", "-created_at"], name="notification_inbox"),
            models.Index(fields=["email_status", "created_at"], name="notification_outbox"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.recipient_id}"
