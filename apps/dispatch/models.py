from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from apps.core.models import StatusEvent
from apps.core.transitions import StateMachine
from apps.organisation.models import DispatchMode
from apps.service_requests.models import ServiceRequest
from apps.volunteers.models import VolunteerProfile


class OfferStatus(models.TextChoices):
    OFFERED = "offered", _("待答复")
    ACCEPTED = "accepted", _("已接单")
    ON_THE_WAY = "on_the_way", _("已出发")
    DECLINED = "declined", _("已婉拒")
    EXPIRED = "expired", _("已过期")
    WITHDRAWN = "withdrawn", _("已撤回")
    RELEASED = "released", _("无法前往")
    IN_SERVICE = "in_service", _("服务中")
    COMPLETED = "completed", _("已完成")


OFFER_TRANSITIONS: dict[str, frozenset[str]] = {
    OfferStatus.OFFERED: frozenset(
        {OfferStatus.ACCEPTED, OfferStatus.DECLINED, OfferStatus.EXPIRED, OfferStatus.WITHDRAWN}
    ),
    OfferStatus.ACCEPTED: frozenset(
        {OfferStatus.ON_THE_WAY, OfferStatus.IN_SERVICE, OfferStatus.RELEASED, OfferStatus.WITHDRAWN}
    ),
    # 出发: on the way; arriving starts the service. A volunteer on the way may still find they cannot go.
    OfferStatus.ON_THE_WAY: frozenset({OfferStatus.IN_SERVICE, OfferStatus.RELEASED, OfferStatus.WITHDRAWN}),
    OfferStatus.IN_SERVICE: frozenset({OfferStatus.COMPLETED}),
    OfferStatus.DECLINED: frozenset(),
    OfferStatus.EXPIRED: frozenset(),
    OfferStatus.WITHDRAWN: frozenset(),
    OfferStatus.RELEASED: frozenset(),
    OfferStatus.COMPLETED: frozenset(),
}
# The volunteer holds a place on the request; only these see the resident's phone and address.
HOLDS_PLACE = frozenset({OfferStatus.ACCEPTED, OfferStatus.ON_THE_WAY, OfferStatus.IN_SERVICE})


def round_to_half_hour(seconds: float) -> Decimal:
    """Service hours in 0.5 h steps, half up: 44 min → 0.5 h, 45 min → 1.0 h."""
    halves = (Decimal(seconds) / Decimal(1800)).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return halves / 2


class Offer(models.Model):
    """派单 is an invitation, never an order (Art. 25): the volunteer accepts or declines.
    Once accepted the offer is the volunteer's task, carrying check-in, check-out and hours."""

    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="offers", verbose_name=_("工单"))
    volunteer = models.ForeignKey(
        VolunteerProfile, on_delete=models.PROTECT, related_name="offers", verbose_name=_("志愿者")
    )
    offered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("派单人"),
    )
    status = models.CharField(_("状态"), max_length=12, choices=OfferStatus.choices, default=OfferStatus.OFFERED)
    # How the offer was made: staff's pick, a wave of the matching queue, taken from the open
    # tasks (抢单), or assigned by a team leader; and, for the queue, which wave.
    via = models.CharField(_("派单方式"), max_length=10, choices=DispatchMode.choices, default=DispatchMode.DIRECTED)
    wave = models.PositiveSmallIntegerField(_("派单轮次"), null=True, blank=True)
    created_at = models.DateTimeField(_("派单时间"), auto_now_add=True)
    expires_at = models.DateTimeField(_("答复截止时间"))
    responded_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    response_note = models.CharField(_("说明"), max_length=500, blank=True)
    departed_at = models.DateTimeField(_("出发时间"), null=True, blank=True)
    eta_minutes = models.PositiveSmallIntegerField(_("预计到达（分钟）"), null=True, blank=True)
    checked_in_at = models.DateTimeField(_("签到时间"), null=True, blank=True)
    checked_out_at = models.DateTimeField(_("签退时间"), null=True, blank=True)
    hours = models.DecimalField(_("服务时长（小时）"), max_digits=5, decimal_places=1, null=True, blank=True)
    report = models.TextField(_("服务小结"), max_length=2000, blank=True)

    class Meta:
        verbose_name = _("派单")
        verbose_name_plural = pgettext_lazy("plural", "派单")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["volunteer", "status"], name="offer_volunteer_status"),
            # A volunteer's offers and tasks, newest first: the lists' order without a sort.
            models.Index(fields=["volunteer", "-created_at", "-id"], name="offer_volunteer_recent"),
            models.Index(fields=["status", "expires_at"], name="offer_status_expiry"),
            models.Index(fields=["request", "status"], name="offer_request_status"),
            # The tasks volunteers hold now: the ranking's open-task cap and its busy check read a few
            # thousand rows here, however many offers the years pile up.
            models.Index(
                fields=["volunteer"],
                condition=Q(status__in=["accepted", "on_the_way", "in_service"]),
                name="offer_volunteer_holding",
            ),
        ]
        constraints = [
            # One open offer or task per volunteer per request; they may be offered again after
            # declining or letting an offer expire.
            models.UniqueConstraint(
                fields=["request", "volunteer"],
                condition=Q(status__in=["offered", "accepted", "on_the_way", "in_service", "completed"]),
                name="offer_one_open_per_volunteer",
            ),
            models.CheckConstraint(condition=Q(status__in=OfferStatus.values), name="offer_status_valid"),
        ]

    def __str__(self) -> str:
        return f"offer {self.pk}: request {self.request_id} → volunteer {self.volunteer_id}"


class OfferEvent(StatusEvent):
    """One row per change of an offer's status: from, to, who, why, when."""

    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="events", verbose_name=_("派单"))
    from_status = models.CharField(_("原状态"), max_length=12, choices=OfferStatus.choices, blank=True)
    to_status = models.CharField(_("新状态"), max_length=12, choices=OfferStatus.choices)

    class Meta(StatusEvent.Meta):
        verbose_name = _("派单记录")
        verbose_name_plural = pgettext_lazy("plural", "派单记录")
        indexes = [models.Index(fields=["offer", "created_at"], name="offer_event_offer_time")]

    def __str__(self) -> str:
        return f"{self.offer_id}: {self.from_status} → {self.to_status}"


OFFER_MACHINE: StateMachine[Offer] = StateMachine(
    model=Offer,
    table=OFFER_TRANSITIONS,
    labels=OfferStatus,
    event_model=OfferEvent,
    event_fk="offer",
    illegal_message=_("该邀请当前状态为「%(from)s」，不能变更为「%(to)s」。"),
    stale_message=_("该邀请状态已变化，请刷新后重试。"),
)
