from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from encrypted_fields.fields import EncryptedCharField

from apps.core.models import StatusEvent
from apps.core.reasons import Reason
from apps.core.transitions import StateMachine
from apps.organisation.models import DispatchMode, OrgNode, Place, ServiceCategory


class Status(models.TextChoices):
    SUBMITTED = "submitted", _("已提交")
    REJECTED = "rejected", _("未受理")
    QUEUED = "queued", _("待派单")
    OFFERED = "offered", _("已派单")
    ACCEPTED = "accepted", _("已接单")
    IN_SERVICE = "in_service", _("服务中")
    COMPLETED = "completed", _("已完成")
    RATED = "rated", _("已评价")
    CLOSED = "closed", _("已关闭")
    CANCELLED = "cancelled", _("已取消")
    ESCALATED = "escalated", _("已上报中心")


# Every allowed change of status. Anything not listed is refused with a 409.
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    Status.SUBMITTED: frozenset({Status.QUEUED, Status.REJECTED, Status.CANCELLED}),
    Status.QUEUED: frozenset({Status.OFFERED, Status.ESCALATED, Status.CANCELLED}),
    # offered → offered: more offers added to a request that is already out.
    # offered → queued: every offer expired or was declined before enough volunteers accepted.
    Status.OFFERED: frozenset({Status.OFFERED, Status.ACCEPTED, Status.QUEUED, Status.ESCALATED, Status.CANCELLED}),
    # accepted → offered/queued: an accepted volunteer withdrew (Art. 22) before service began.
    Status.ACCEPTED: frozenset({Status.IN_SERVICE, Status.OFFERED, Status.QUEUED, Status.CANCELLED}),
    Status.IN_SERVICE: frozenset({Status.COMPLETED}),
    Status.COMPLETED: frozenset({Status.RATED, Status.CLOSED}),
    Status.RATED: frozenset({Status.CLOSED}),
    Status.ESCALATED: frozenset({Status.OFFERED, Status.QUEUED, Status.CANCELLED}),
    Status.REJECTED: frozenset(),
    Status.CLOSED: frozenset(),
    Status.CANCELLED: frozenset(),
}

# While a request is in one of these, an accepted volunteer may see the resident's contact data.
# Queued and escalated are included: a partly staffed request goes back there (offers expired or
# declined) while its accepted volunteers still hold their places and may need to call ahead.
ACTIVE_FOR_VOLUNTEERS = frozenset({Status.QUEUED, Status.OFFERED, Status.ACCEPTED, Status.IN_SERVICE, Status.ESCALATED})
CANCELLABLE = frozenset({Status.SUBMITTED, Status.QUEUED, Status.OFFERED, Status.ACCEPTED, Status.ESCALATED})
DISPATCHABLE = frozenset({Status.QUEUED, Status.OFFERED, Status.ESCALATED})
# The statuses a request can rest in, for filters. "rated" is a step, not a resting place:
# rating closes the request in the same transaction (completed → rated → closed), so the
# timeline shows it but no request is ever found in it.
TRANSIENT_STATUSES = frozenset({Status.RATED})
FILTERABLE_STATUSES = [(value, label) for value, label in Status.choices if value not in TRANSIENT_STATUSES]


class Urgency(models.TextChoices):
    NORMAL = "normal", _("一般")
    URGENT = "urgent", _("紧急")
    CRITICAL = "critical", _("特急")


class Channel(models.TextChoices):
    WEB = "web", _("网上点单")
    PHONE = "phone", _("电话代点单")
    DESK = "desk", _("窗口代点单")


class ServiceRequest(models.Model):
    """A resident's order for a service (工单)."""

    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="service_requests", verbose_name=_("点单群众")
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("录入人")
    )
    channel = models.CharField(_("点单渠道"), max_length=10, choices=Channel.choices, default=Channel.WEB)
    category = models.ForeignKey(
        ServiceCategory, on_delete=models.PROTECT, related_name="+", verbose_name=_("服务类别")
    )
    title = models.CharField(_("标题"), max_length=80)
    description = models.TextField(_("需求描述"), max_length=2000)
    township = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="+", verbose_name=_("乡镇/街道"))
    village = models.ForeignKey(Place, on_delete=models.PROTECT, related_name="+", verbose_name=_("村/社区"))
    station = models.ForeignKey(
        OrgNode, on_delete=models.PROTECT, related_name="service_requests", verbose_name=_("承办阵地")
    )
    address = EncryptedCharField(_("详细地址"), max_length=200)
    contact_name = models.CharField(_("联系人"), max_length=50)
    contact_phone = EncryptedCharField(_("联系电话"), max_length=20)
    latitude = models.DecimalField(_("纬度"), max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(_("经度"), max_digits=9, decimal_places=6, null=True, blank=True)
    window_start = models.DateTimeField(_("期望开始时间"), null=True, blank=True)
    window_end = models.DateTimeField(_("期望结束时间"), null=True, blank=True)
    urgency = models.CharField(_("紧急程度"), max_length=10, choices=Urgency.choices, default=Urgency.NORMAL)
    # Set from the category's default when submitted; staff may switch it (apps.matching).
    dispatch_mode = models.CharField(
        _("派单方式"), max_length=10, choices=DispatchMode.choices, default=DispatchMode.DIRECTED
    )
    volunteers_needed = models.PositiveSmallIntegerField(_("所需志愿者人数"), default=1)
    volunteers_accepted = models.PositiveSmallIntegerField(_("已接单人数"), default=0)
    status = models.CharField(_("状态"), max_length=12, choices=Status.choices, default=Status.SUBMITTED)
    # Why it is rejected or cancelled: as typed, or a system reason (see apps.core.reasons).
    status_reason = models.CharField(_("状态说明"), max_length=500, blank=True)
    status_reason_code = models.CharField(max_length=40, blank=True, editable=False)
    status_reason_params = models.JSONField(default=dict, blank=True, editable=False)
    created_at = models.DateTimeField(_("提交时间"), auto_now_add=True)
    status_changed_at = models.DateTimeField(_("状态更新时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("服务工单")
        verbose_name_plural = pgettext_lazy("plural", "服务工单")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The lists' default order; without it every page sorts the whole scoped set.
            models.Index(fields=["-created_at", "-id"], name="request_recent"),
            models.Index(fields=["station", "status"], name="request_station_status"),
            models.Index(fields=["requester", "-created_at"], name="request_requester_recent"),
            models.Index(fields=["status", "status_changed_at"], name="request_status_age"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(volunteers_needed__gte=1) & Q(volunteers_needed__lte=20), name="request_needed_1_to_20"
            ),
            # The database itself refuses an N+1th acceptance, whatever the application does.
            models.CheckConstraint(
                condition=Q(volunteers_accepted__lte=F("volunteers_needed")), name="request_accepted_at_most_needed"
            ),
            models.CheckConstraint(
                condition=Q(window_start__isnull=True)
                | Q(window_end__isnull=True)
                | Q(window_end__gt=F("window_start")),
                name="request_window_ordered",
            ),
            models.CheckConstraint(condition=Q(status__in=Status.values), name="request_status_valid"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"

    @property
    def display_status_reason(self) -> str:
        return str(Reason.of(self, "status_reason"))

    @property
    def can_be_cancelled(self) -> bool:
        return self.status in CANCELLABLE

    @property
    def can_be_rated(self) -> bool:
        return self.status == Status.COMPLETED

    @property
    def can_be_dispatched(self) -> bool:
        return self.status in DISPATCHABLE and self.volunteers_accepted < self.volunteers_needed


class RequestEvent(StatusEvent):
    """One row per change of status: from, to, who, why, when. The resident's timeline."""

    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(_("原状态"), max_length=12, choices=Status.choices, blank=True)
    to_status = models.CharField(_("新状态"), max_length=12, choices=Status.choices)

    class Meta(StatusEvent.Meta):
        verbose_name = _("工单记录")
        verbose_name_plural = pgettext_lazy("plural", "工单记录")
        indexes = [models.Index(fields=["request", "created_at"], name="event_request_time")]

    def __str__(self) -> str:
        return f"{self.request_id}: {self.from_status} → {self.to_status}"


REQUEST_MACHINE: StateMachine[ServiceRequest] = StateMachine(
    model=ServiceRequest,
    table=ALLOWED_TRANSITIONS,
    labels=Status,
    event_model=RequestEvent,
    event_fk="request",
    illegal_message=_("工单当前状态为「%(from)s」，不能变更为「%(to)s」。"),
    stale_message=_("工单状态已被他人更新，请刷新后重试。"),
    changed_at_field="status_changed_at",
)
