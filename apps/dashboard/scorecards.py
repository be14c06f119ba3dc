"""Scorecards (评议) per volunteer, team, station and township office, and the monthly and
yearly rankings (月榜/年榜) built from them.

Satisfaction carries a prior, so that one 5-star review is not 5.0 (a Bayesian average):

    score = (C × m + Σ ratings) / (C + n)

where n is the number of ratings, C = ``SATISFACTION_PRIOR_WEIGHT`` (5: the prior counts as five
ratings) and m the whole city's average rating in the same period (``SATISFACTION_PRIOR_DEFAULT``
when the city has none). A volunteer with one 5-star rating in a month whose city average is
4.2 scores (5 × 4.2 + 5) / 6 = 4.33; with twenty 5-star ratings, (21 + 100) / 25 = 4.84.

Like the KPIs, a scorecard covers the requests submitted in the period (see ``kpi``)."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, QuerySet, Sum
from django.utils.translation import gettext_lazy as _

from apps.core.masking import mask_name
from apps.dispatch.models import Offer, OfferStatus
from apps.organisation.models import OrgNode, Place
from apps.ratings.models import COMPLAINT_TAGS, FollowUp
from apps.teams.models import MembershipStatus, Team, TeamMembership

from .facts import TAG_BITS
from .kpi import nearest_rank
from .models import RequestFact

LEVELS = {
    "volunteer": _("志愿者"),
    "team": _("服务队"),
    "station": _("实践站"),
    "township": _("实践所（乡镇）"),
}
COMPLAINT_BITS = sum(TAG_BITS[tag] for tag in COMPLAINT_TAGS)


def is_complaint(score: int | None, bits: int) -> bool:
    """差评或投诉: a rating of 1–2, or one with a complaint tag (迟到, 问题未解决)."""
    return score is not None and (score <= 2 or bool(bits & COMPLAINT_BITS))


def prior_mean(period_facts: QuerySet[RequestFact]) -> float:
    """m: the whole city's average rating over the period (never a part's own)."""
    row = period_facts.aggregate(n=Count("score"), total=Sum("score"))
    if not row["n"]:
        return settings.SATISFACTION_PRIOR_DEFAULT
    return float(row["total"]) / int(row["n"])


def with_prior(*, total: int, n: int, mean: float, weight: int | None = None) -> float:
    c = settings.SATISFACTION_PRIOR_WEIGHT if weight is None else weight
    return round((c * mean + total) / (c + n), 2)


@dataclass
class Scorecard:
    key: int
    name: str
    number: str = ""  # the volunteer's platform number
    handled: int = 0  # requests completed
    hours: Decimal = Decimal("0.0")
    rated: int = 0
    score_total: int = 0
    complaints: int = 0
    follow_ups: int = 0
    response_median: int | None = None  # seconds: offer to answer (volunteers), submission to first offer (others)
    completion_median: int | None = None  # seconds: submission to completion
    score: float | None = None  # with the prior
    average: float | None = None  # plain, for reference
    responses: list[int] = field(default_factory=list, repr=False)
    completions: list[int] = field(default_factory=list, repr=False)
    request_ids: set[int] = field(default_factory=set, repr=False)

    def add_request(self, fact: "FactRow") -> None:
        if fact.request_id in self.request_ids:
            return
        self.request_ids.add(fact.request_id)
        if fact.complete_seconds is not None:
            self.handled += 1
            self.completions.append(fact.complete_seconds)
        if fact.score is not None:
            self.rated += 1
            self.score_total += fact.score
        if is_complaint(fact.score, fact.tag_bits):
            self.complaints += 1

    def finish(self, *, mean: float, follow_ups: dict[int, int]) -> None:
        self.follow_ups = sum(follow_ups.get(rid, 0) for rid in self.request_ids)
        self.response_median = nearest_rank(sorted(self.responses), 0.5)
        self.completion_median = nearest_rank(sorted(self.completions), 0.5)
        self.score = with_prior(total=self.score_total, n=self.rated, mean=mean)
        self.average = round(self.score_total / self.rated, 2) if self.rated else None


@dataclass(frozen=True)
class FactRow:
    request_id: int
    township_id: int
    station_id: int
    offer_seconds: int | None
    complete_seconds: int | None
    hours: Decimal
    score: int | None
    tag_bits: int


def _fact_rows(facts: QuerySet[RequestFact]) -> dict[int, FactRow]:
    rows = facts.values_list(
        "request_id",
        "township_id",
        "station_id",
        "offer_seconds",
        "complete_seconds",
        "hours",
        "score",
        "tag_bits",
    )
    return {row[0]: FactRow(*row) for row in rows}


def _follow_ups(request_ids: Iterable[int]) -> dict[int, int]:
    return dict(
        FollowUp.objects.filter(request_id__in=list(request_ids))
        .values_list("request_id")
        .annotate(n=Count("id"))
        .values_list("request_id", "n")
    )


def _volunteer_cards(facts: dict[int, FactRow], request_ids: QuerySet[RequestFact]) -> dict[int, Scorecard]:
    cards: dict[int, Scorecard] = {}
    offers = (
        Offer.objects.filter(status=OfferStatus.COMPLETED, request_id__in=request_ids.values("request_id"))
        .values_list(
            "volunteer_id",
            "request_id",
            "hours",
            "created_at",
            "responded_at",
            "volunteer__volunteer_number",
            "volunteer__user__name",
            "volunteer__public_name_consent",
        )
        .order_by("volunteer_id", "id")
    )
    for volunteer_id, request_id, hours, offered, responded, number, name, public in offers:
        card = cards.get(volunteer_id)
        if card is None:
            card = cards[volunteer_id] = Scorecard(
                key=volunteer_id, name=name if public else mask_name(name), number=number or ""
            )
        card.hours += hours or 0
        if responded is not None:
            card.responses.append(max(0, int((responded - offered).total_seconds())))
        fact = facts.get(request_id)
        if fact is not None:
            card.add_request(fact)
    return cards


def _group_cards(facts: dict[int, FactRow], key: str, names: dict[int, str]) -> dict[int, Scorecard]:
    cards: dict[int, Scorecard] = {}
    for fact in facts.values():
        group = getattr(fact, key)
        card = cards.get(group)
        if card is None:
            card = cards[group] = Scorecard(key=group, name=names.get(group, ""))
        card.hours += fact.hours
        if fact.offer_seconds is not None:
            card.responses.append(fact.offer_seconds)
        card.add_request(fact)
    return cards


def _team_cards(volunteer_cards: dict[int, Scorecard]) -> dict[int, Scorecard]:
    cards: dict[int, Scorecard] = {}
    memberships = TeamMembership.objects.filter(
        status=MembershipStatus.ACTIVE, volunteer_id__in=list(volunteer_cards)
    ).values_list("team_id", "volunteer_id")
    names = dict(Team.objects.values_list("id", "name"))
    for team_id, volunteer_id in memberships:
        member = volunteer_cards[volunteer_id]
        card = cards.get(team_id)
        if card is None:
            card = cards[team_id] = Scorecard(key=team_id, name=names.get(team_id, ""))
        card.hours += member.hours
        card.responses.extend(member.responses)
        # A request two members served together counts once for their team (see scorecards()).
        card.request_ids |= member.request_ids
    return cards


def scorecards(*, level: str, facts: QuerySet[RequestFact], mean: float) -> list[Scorecard]:
    """Scorecards at ``level`` over ``facts`` (scoped to the viewer and the period), ranked: by
    satisfaction with the prior, then by requests completed, then by key."""
    rows = _fact_rows(facts)
    if level in ("volunteer", "team"):
        cards = _volunteer_cards(rows, facts)
        if level == "team":
            teams = _team_cards(cards)
            for card in teams.values():
                ids = set(card.request_ids)
                card.request_ids = set()
                for request_id in ids:
                    card.add_request(rows[request_id])
            cards = teams
    elif level == "station":
        names = dict(OrgNode.objects.filter(id__in={r.station_id for r in rows.values()}).values_list("id", "name"))
        cards = _group_cards(rows, "station_id", names)
    else:
        names = dict(Place.objects.filter(kind=Place.Kind.TOWNSHIP).values_list("id", "name"))
        cards = _group_cards(rows, "township_id", names)
    follow_ups = _follow_ups(rows)
    ranked = []
    for card in cards.values():
        card.finish(mean=mean, follow_ups=follow_ups)
        if card.handled:
            ranked.append(card)
    ranked.sort(key=lambda c: (-(c.score or 0), -c.handled, c.key))
    return ranked


def shortlist(cards: list[Scorecard], *, min_tasks: int) -> list[Scorecard]:
    """表彰推荐: volunteers with at least ``min_tasks`` completed and no complaint, best first."""
    return [c for c in cards if c.handled >= min_tasks and c.complaints == 0][: settings.COMMEND_SHORTLIST]
