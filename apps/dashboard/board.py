"""The live board (调度大屏): what is open now in a staff member's area, what waits for a person
and how close each is to its SLA, offers nobody answered yet, who is on duty, today's work and
a map of the townships. Read from the live tables (open requests are few and indexed by status),
except today's completions and ratings, which come from the facts."""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from django.conf import settings
from django.db.models import Avg, Count, F, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from apps.accounts.areas import area_of
from apps.accounts.models import User
from apps.dispatch.models import HOLDS_PLACE, Offer, OfferStatus
from apps.matching.models import NeedsPerson
from apps.organisation.models import DispatchMode, Place
from apps.service_requests.models import ServiceRequest, Status
from apps.service_requests.selectors import as_list_rows, requests_managed_by

from .kpi import OPEN_STATUSES
from .models import RequestFact

NEEDS_PERSON_ROWS = 50
M = TypeVar("M", ServiceRequest, RequestFact)
OFFER_ROWS = 20
ON_DUTY_ROWS = 30


class Sla:
    GREEN = "green"
    AMBER = "amber"
    RED = "red"
    LABELS = {GREEN: _("正常"), AMBER: _("临近超时"), RED: _("已超时")}


# What a person must do, by the row's state (the match's own reason wins).
WHY: dict[str, Any] = {
    Status.SUBMITTED: _("待审核"),
    Status.ESCALATED: _("已上报中心"),
    Status.QUEUED: _("待人工派单"),
}


def needs_person() -> Q:
    """Waiting for a person: 审核, an escalation, a request staff dispatch themselves, or one the
    queue gave up on (no candidates, escalated, the team declined)."""
    return (
        Q(status__in=[Status.SUBMITTED, Status.ESCALATED])
        | Q(status=Status.QUEUED, dispatch_mode=DispatchMode.DIRECTED)
        | Q(status__in=[Status.QUEUED, Status.OFFERED], match__needs_person__in=NeedsPerson.values)
    )


def waited_text(minutes: int) -> str:
    """How long a request has waited, as a dispatcher reads it: 45 分钟, 3 小时 5 分, 2 天 4 小时."""
    if minutes < 60:
        return gettext("%(m)d 分钟") % {"m": minutes}
    hours, rest = divmod(minutes, 60)
    if hours < 48:
        return gettext("%(h)d 小时 %(m)d 分") % {"h": hours, "m": rest}
    days, hours = divmod(hours, 24)
    return gettext("%(d)d 天 %(h)d 小时") % {"d": days, "h": hours}


def sla_limit(urgency: str) -> timedelta:
    return timedelta(minutes=settings.ESCALATE_AFTER_MINUTES[urgency])


def sla_state(*, waited: timedelta, urgency: str) -> str:
    """Red once the request has waited its urgency's limit (the escalation limit), amber from
    ``DASHBOARD_SLA_AMBER_SHARE`` of it, green before."""
    limit = sla_limit(urgency)
    if waited >= limit:
        return Sla.RED
    if waited >= limit * settings.DASHBOARD_SLA_AMBER_SHARE:
        return Sla.AMBER
    return Sla.GREEN


@dataclass(frozen=True)
class BoardFilter:
    township_id: int | None = None
    urgency: str = ""
    category_id: int | None = None

    def apply(self, rows: QuerySet[M]) -> QuerySet[M]:
        """``rows`` (requests or their facts: both name township, urgency and category) narrowed."""
        if self.township_id is not None:
            rows = rows.filter(township_id=self.township_id)
        if self.urgency:
            rows = rows.filter(urgency=self.urgency)
        if self.category_id is not None:
            rows = rows.filter(category_id=self.category_id)
        return rows


@dataclass
class WaitingRow:
    request: ServiceRequest
    waited: timedelta
    sla: str
    why: str

    @property
    def sla_label(self) -> str:
        return str(Sla.LABELS[self.sla])

    @property
    def waited_minutes(self) -> int:
        return int(self.waited.total_seconds() // 60)

    @property
    def waited_text(self) -> str:
        return waited_text(self.waited_minutes)


@dataclass
class TownshipDot:
    place_id: int
    name: str
    open: int
    x: float
    y: float
    r: float


@dataclass
class Board:
    now: datetime
    counts: dict[str, int]
    waiting: list[WaitingRow]
    waiting_total: int
    sla_totals: dict[str, int]
    offers: list[Offer]
    offers_total: int
    on_duty: list[Offer]
    on_duty_total: int
    today: dict[str, Any]
    townships: list[TownshipDot] = field(default_factory=list)

    @property
    def count_rows(self) -> list[tuple[str, str, int]]:
        return [(status, str(Status(status).label), n) for status, n in self.counts.items()]


def scoped_requests(*, user: User, flt: BoardFilter) -> QuerySet[ServiceRequest]:
    return flt.apply(requests_managed_by(user=user)).order_by()


def _why(request: ServiceRequest) -> str:
    reason = getattr(request, "queue_stop", "")
    if reason:
        return str(NeedsPerson(reason).label)
    return str(WHY.get(request.status, _("待人工派单")))


def map_dots(open_by_township: dict[int, int], *, width: float = 400, height: float = 360) -> list[TownshipDot]:
    """The townships placed by their bundled coordinates in a ``width`` × ``height`` box (a plain
    equirectangular projection: the city is 40 km across), each with its open requests."""
    places = list(
        Place.objects.filter(kind=Place.Kind.TOWNSHIP, latitude__isnull=False, longitude__isnull=False).order_by(
            "code", "id"
        )
    )
    if not places:
        return []
    lats = [float(p.latitude) for p in places if p.latitude is not None]
    lngs = [float(p.longitude) for p in places if p.longitude is not None]
    pad = 36.0
    span_lat = (max(lats) - min(lats)) or 1.0
    span_lng = (max(lngs) - min(lngs)) or 1.0
    biggest = max(open_by_township.values(), default=0) or 1
    dots = []
    for place in places:
        assert place.latitude is not None and place.longitude is not None
        count = open_by_township.get(place.id, 0)
        dots.append(
            TownshipDot(
                place_id=place.id,
                name=place.name,
                open=count,
                x=round(pad + (float(place.longitude) - min(lngs)) / span_lng * (width - 2 * pad), 1),
                y=round(pad + (max(lats) - float(place.latitude)) / span_lat * (height - 2 * pad), 1),
                r=round(6 + 14 * (count / biggest) ** 0.5, 1) if count else 5.0,
            )
        )
    return dots


def board(*, user: User, flt: BoardFilter, now: datetime | None = None) -> Board:
    now = now or timezone.now()
    requests = scoped_requests(user=user, flt=flt)
    open_requests = requests.filter(status__in=OPEN_STATUSES)
    counts: dict[str, int] = {str(status): 0 for status in OPEN_STATUSES}
    counts |= dict(open_requests.values_list("status").annotate(n=Count("id")).values_list("status", "n"))
    open_by_township = dict(
        open_requests.values_list("township_id").annotate(n=Count("id")).values_list("township_id", "n")
    )

    waiting_qs = (
        as_list_rows(open_requests.filter(needs_person()))
        .annotate(queue_stop=F("match__needs_person"))
        .order_by("created_at", "id")
    )
    # SLA totals over every waiting row, not only the page shown: one pass over (urgency, created_at).
    sla_totals = {Sla.GREEN: 0, Sla.AMBER: 0, Sla.RED: 0}
    waiting_total = 0
    for urgency, created_at in open_requests.filter(needs_person()).values_list("urgency", "created_at"):
        sla_totals[sla_state(waited=now - created_at, urgency=urgency)] += 1
        waiting_total += 1
    waiting = [
        WaitingRow(
            request=r,
            waited=now - r.created_at,
            sla=sla_state(waited=now - r.created_at, urgency=r.urgency),
            why=_why(r),
        )
        for r in waiting_qs[:NEEDS_PERSON_ROWS]
    ]

    scoped_offers = Offer.objects.filter(request__in=requests.values("id"))
    unanswered = scoped_offers.filter(status=OfferStatus.OFFERED)
    offers = list(unanswered.select_related("request", "volunteer__user").order_by("expires_at", "id")[:OFFER_ROWS])
    on_duty_qs = scoped_offers.filter(status__in=[*HOLDS_PLACE])
    on_duty = list(on_duty_qs.select_related("request", "volunteer__user").order_by("-created_at", "id")[:ON_DUTY_ROWS])

    midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    facts = flt.apply(
        area_of(user).filter(RequestFact.objects.all(), township="township", village="village", category="category")
    )
    completed_today = facts.filter(completed_at__gte=midnight).aggregate(n=Count("pk"))["n"]
    rated_today = facts.filter(rated_at__gte=midnight).aggregate(n=Count("pk"), average=Avg("score"))
    return Board(
        now=now,
        counts=counts,
        waiting=waiting,
        waiting_total=waiting_total,
        sla_totals=sla_totals,
        offers=offers,
        offers_total=unanswered.count(),
        on_duty=on_duty,
        on_duty_total=on_duty_qs.count(),
        today={
            "completed": completed_today,
            "rated": rated_today["n"],
            "average_score": round(rated_today["average"], 2) if rated_today["average"] is not None else None,
        },
        townships=map_dots(open_by_township),
    )
