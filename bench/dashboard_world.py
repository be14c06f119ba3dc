"""The city the dashboard benchmark reads: three years of Zhuozhou's service requests, each
with the status events, offers and rating its outcome implies, written with COPY.

``build_world(n_requests)`` needs Django set up on a migrated, empty PostgreSQL database
(``benchkit.bench_database``). It loads the 14 townships, 450 villages, the practice network
and the categories (``load_places``), then writes:

* staff: three dispatchers of the centre, two staff of each township office;
* residents (one per 25 requests, at least 2,000) and ``n_volunteers`` volunteers (users and
  approved profiles, in the townships in proportion to their requests), with COPY: one
  encrypted phone value, computed once, serves every row;
* ``n_requests`` requests over the last three years (``HISTORY_DAYS``), ids in the order of
  submission, most during the day; townships uneven (the three 街道 weigh 2.5 times a town of
  as many villages), villages lognormal within their township, eleven categories by
  ``CATEGORY_WEIGHTS``, urgency 80/15/5 %, channel web/phone/desk 70/22/8 %, one volunteer
  wanted (10 %: two). 便民服务 is made auto-accept (no review by a person) and its requests
  and those of the other ``auto`` categories carry a matching state.

Every request lives a timeline drawn at random — review (median 30 min, normal requests only
in office hours, 8:00–18:00, so the evening's wait for the morning; 5 % rejected),
escalation when the queue waits past the urgency's limit, the offers (20 % of first waves are
declined or expire and a second wave goes out), acceptance, check-in at the wanted time (35 %
"as soon as possible"), service of 0.5–4 h, a rating within seven days for 60 % or the unrated
close after seven days — and 8 % are cancelled at some step. Only the part of the timeline
that lies before *now* is written, so the requests still open are the recent ones: about
1,500 of a million, as in a real city (which ones depends on the hour: at night mostly
services accepted for the coming days and requests waiting for the morning's review). The
events are those the services write (reasons, actors), the offers carry their answers,
check-in/out and hours, and ratings their score and tags. A million requests: about 7.4
million events, 1.2 million offers, half a million ratings, in under three minutes on 2 cores.

While loading, the tables' secondary indexes are dropped (and built again at the end) and, if
the connection may, foreign-key triggers are off (``session_replication_role = replica``): the
rows are consistent by construction, and the unique and check constraints still hold them."""

from __future__ import annotations

import io
import math
import random
import time
from bisect import bisect
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import accumulate
from typing import Any

HISTORY_DAYS = 3 * 365
DESCRIPTION = "家里老人行动不便，需要志愿者上门帮忙，时间可以商量。"
CHUNK = 25_000  # requests per COPY round
LOCAL_OFFSET = 8 * 3600  # Asia/Shanghai, no daylight saving
HOUR = 3600.0
DAY = 86400.0

URGENCIES = (("normal", 80), ("urgent", 15), ("critical", 5))
CHANNELS = (("web", 70), ("phone", 22), ("desk", 8))
CHANNEL_TEXT = {"phone": "电话代点单", "desk": "窗口代点单"}
CATEGORY_WEIGHTS = {
    "elderly-disabled": 30,
    "convenience": 22,
    "health": 12,
    "environment": 8,
    "education": 6,
    "legal": 5,
    "counselling": 5,
    "farm-income": 5,
    "culture-sports": 3,
    "science": 2,
    "theory": 2,
}
AUTO_ACCEPT = ("convenience",)
# Local hour of submission (0–23).
HOUR_WEIGHTS = (1, 1, 1, 1, 1, 2, 4, 8, 14, 16, 15, 12, 8, 9, 13, 14, 13, 10, 8, 6, 4, 3, 2, 1)
OFFICE_HOURS = (8, 18)  # local: when township staff review and dispatch normal requests
# Rejection needs a review: the auto-accept field (a fifth of the requests) has none, so 6 % of
# the others makes about 5 % of all.
FATES = (("served", 86), ("cancelled", 8), ("rejected", 6))
CANCEL_STAGES = (("submitted", 30), ("queued", 30), ("offered", 25), ("accepted", 15))
REVIEW_MEDIAN = {"normal": 30 * 60, "urgent": 10 * 60, "critical": 5 * 60}
DISPATCH_MEDIAN = {"normal": 20 * 60, "urgent": 8 * 60, "critical": 3 * 60}
WAVE_FAILS = 0.20
ASAP = 0.35
RATED = 0.60
ON_BEHALF = 0.25
NEEDS_PERSON = 0.40  # of the auto-mode requests waiting in the queue now
HOURS = (("0.5", 10), ("1.0", 30), ("1.5", 20), ("2.0", 20), ("2.5", 8), ("3.0", 8), ("4.0", 4))
RATING_SCORES = ((5, 60), (4, 25), (3, 10), (2, 3), (1, 2))
GOOD_TAGS = ("friendly", "on_time", "skilled", "patient")
BAD_TAGS = ("late", "unsolved")
REJECT_TEXTS = ("不属于志愿服务范围", "需求描述不清，请补充后重新提交", "已由社区网格员上门处理", "重复提交")
CANCEL_TEXTS = ("已自行解决", "时间有变", "家人已帮忙处理")


@dataclass
class World:
    now: datetime
    centre_user: Any  # User: a dispatcher of the centre (area: the whole city)
    township_user: Any  # User: staff of the busiest township's office
    township: Any  # Place: that township
    requests: int = 0
    events: int = 0
    offers: int = 0
    ratings: int = 0
    match_states: int = 0
    residents: int = 0
    volunteers: int = 0
    statuses: Counter[str] = field(default_factory=Counter)
    seconds: dict[str, float] = field(default_factory=dict)


class _Pick:
    """A weighted choice with one random number and a bisection."""

    def __init__(self, rng: random.Random, table: Sequence[tuple[Any, float]]):
        self.rng = rng
        self.values = [value for value, _ in table]
        self.cum = list(accumulate(weight for _, weight in table))
        self.total = self.cum[-1]

    def __call__(self) -> Any:
        return self.values[bisect(self.cum, self.rng.random() * self.total)]


# --- COPY text -----------------------------------------------------------------------------------

_days: dict[int, str] = {}


def _ts(t: float | None) -> str:
    """A UTC timestamp for COPY, to the microsecond (``\\N`` for none)."""
    if t is None:
        return "\\N"
    micros = round(t * 1_000_000)
    seconds, us = divmod(micros, 1_000_000)
    day, second = divmod(seconds, 86400)
    prefix = _days.get(day)
    if prefix is None:
        prefix = _days[day] = datetime.fromtimestamp(day * 86400, UTC).strftime("%Y-%m-%d ")
    h, rest = divmod(second, 3600)
    m, s = divmod(rest, 60)
    return f"{prefix}{h:02d}:{m:02d}:{s:02d}.{us:06d}+00"


def _n(value: Any) -> str:
    return "\\N" if value is None else str(value)


def _copy(table: str, columns: str, lines: list[str]) -> None:
    from django.db import connection

    if not lines:
        return
    with connection.cursor() as cursor:
        cursor.copy_expert(f"COPY {table} ({columns}) FROM STDIN", io.StringIO("".join(lines)))


# --- Loading fast --------------------------------------------------------------------------------


@contextmanager
def bulk_load(tables: Sequence[str]) -> Iterator[None]:
    """The secondary indexes of ``tables`` dropped while they are filled and built again after
    (as written by Django: same names, same definitions); foreign-key triggers off if allowed."""
    from django.db import DatabaseError, connection

    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
                 FROM pg_index i
                WHERE i.indrelid = ANY(%s::regclass[])
                  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)""",
            [list(tables)],
        )
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        try:
            cursor.execute("SET session_replication_role = replica")
            replica = True
        except DatabaseError:  # not a superuser: the checks run, only slower
            replica = False
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            if replica:
                cursor.execute("SET session_replication_role = DEFAULT")
            cursor.execute("SET maintenance_work_mem = '512MB'")
            for _, definition in indexes:
                cursor.execute(definition)
            cursor.execute("RESET maintenance_work_mem")


# --- People --------------------------------------------------------------------------------------


def _encrypted(model: Any, field_name: str, value: str) -> str:
    return model._meta.get_field(field_name).get_prep_value(value)


def _people(
    *, n_residents: int, n_volunteers: int, township_pick: _Pick, villages: dict[int, list[int]], now: float
) -> tuple[dict[int, list[int]], dict[int, list[tuple[int, int]]]]:
    """Residents and volunteers by COPY; returns (township → resident user ids, township →
    [(volunteer profile id, user id)])."""
    from django.db import connection

    from apps.accounts.models import User

    rng = random.Random(2)
    phone = _encrypted(User, "phone", "13700000000")
    joined = _ts(now - 4 * 365 * DAY)
    lines = []
    for kind, count in (("resident", n_residents), ("volunteer", n_volunteers)):
        for i in range(count):
            township = township_pick()
            village = rng.choice(villages[township])
            name = "居民" if kind == "resident" else "志愿者"
            lines.append(f"!\tbench-{kind}-{i:07d}\t{phone}\t{name}\t\tf\tt\tf\t{joined}\t{township}\t{village}\t\n")
    _copy(
        "accounts_user",
        "password, phone_digest, phone, name, email, is_superuser, is_active, is_staff, date_joined, "
        "home_township_id, home_village_id, privacy_version",
        lines,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, phone_digest, home_township_id, home_village_id FROM accounts_user "
            "WHERE phone_digest LIKE 'bench-%%' ORDER BY phone_digest"
        )
        users = cursor.fetchall()
    residents: dict[int, list[int]] = {}
    volunteer_users = []
    for user_id, digest, township, village in users:
        if digest.startswith("bench-resident-"):
            residents.setdefault(township, []).append(user_id)
        else:
            volunteer_users.append((user_id, township, village))
    submitted = _ts(now - 2 * 365 * DAY)
    lines = [
        f"ZZV{i + 1:07d}\tt\tt\t{submitted}\t{township}\t{village}\t{user_id}\t2097151\t\t\t\t\t\t\tf\t\t"
        f"{rng.choice((3, 5, 5, 10))}\t[]\tapproved\t{submitted}\n"
        for i, (user_id, township, village) in enumerate(volunteer_users)
    ]
    _copy(
        "volunteers_volunteerprofile",
        "volunteer_number, is_verified, is_active, created_at, home_township_id, home_village_id, user_id, "
        "availability, emergency_contact_name, gender, guardian_name, id_type, occupation, political_status, "
        "public_name_consent, rejection_reason, service_radius_km, skills, status, submitted_at",
        lines,
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, user_id, home_township_id FROM volunteers_volunteerprofile")
        volunteers: dict[int, list[tuple[int, int]]] = {}
        for profile_id, user_id, township in cursor.fetchall():
            volunteers.setdefault(township, []).append((profile_id, user_id))
    return residents, volunteers


# --- Requests and what happened to them ----------------------------------------------------------


@dataclass
class _Category:
    id: int
    code: str
    mode: str
    auto_accept: bool


@dataclass
class _Offer:
    volunteer: tuple[int, int]  # (profile id, user id)
    created: float
    expires: float
    via: str
    wave: int | None
    offered_by: int | None
    changes: list[tuple[float, str]]  # (when, status), in order
    responded: float | None = None
    checked_in: float | None = None
    checked_out: float | None = None
    hours: str | None = None
    note: str = ""

    def withdraw(self, at: float, note: str) -> None:
        """Withdrawn at ``at`` (the request cancelled), if still offered or accepted then."""
        before = [change for change in self.changes if change[0] < at]
        if not before or before[-1][1] not in ("offered", "accepted"):
            return
        self.changes = [*before, (at, "withdrawn")]
        if self.responded is not None and self.responded >= at:
            self.responded = None
        self.note = note


# (when, from status, to status, actor, typed reason, reason code, reason params as JSON)
Step = tuple[float, str, str, int | None, str, str, str]


@dataclass
class _Life:
    """One request's whole timeline, drawn at submission; only what lies before now is written."""

    id: int
    created: float
    township: int
    village: int
    category: _Category
    urgency: str
    channel: str
    requester: int
    entered_by: int
    needed: int
    steps: list[Step] = field(default_factory=list)
    offers: list[_Offer] = field(default_factory=list)
    rating: tuple[float, int, str, int, bool] | None = None  # when, score, tags (JSON), by, on behalf
    cancel: tuple[float, str, str] | None = None  # when, typed reason, reason code
    window: tuple[float, float] | None = None


class _Requests:
    """Draws each request's timeline and writes what of it lies before ``now``."""

    def __init__(
        self,
        *,
        rng: random.Random,
        now: float,
        township_pick: _Pick,
        village_picks: dict[int, _Pick],
        stations: dict[int, int],
        categories: list[_Category],
        residents: dict[int, list[int]],
        volunteers: dict[int, list[tuple[int, int]]],
        township_staff: dict[int, list[int]],
        centre_staff: list[int],
        settings: Any,
    ):
        self.rng = rng
        self.now = now
        self.township_pick = township_pick
        self.village_picks = village_picks
        self.stations = stations
        self.category_pick = _Pick(rng, [(c, CATEGORY_WEIGHTS.get(c.code, 1)) for c in categories])
        self.urgency_pick = _Pick(rng, URGENCIES)
        self.channel_pick = _Pick(rng, CHANNELS)
        self.fate_pick = _Pick(rng, FATES)
        self.stage_pick = _Pick(rng, CANCEL_STAGES)
        self.hours_pick = _Pick(rng, HOURS)
        self.score_pick = _Pick(rng, RATING_SCORES)
        self.hour_pick = _Pick(rng, list(enumerate(HOUR_WEIGHTS)))
        self.residents = residents
        self.volunteers = volunteers
        self.township_staff = township_staff
        self.centre_staff = centre_staff
        self.escalate_after = {u: m * 60.0 for u, m in settings.ESCALATE_AFTER_MINUTES.items()}
        self.expiry = {u: m * 60.0 for u, m in settings.OFFER_EXPIRY_MINUTES.items()}
        self.unrated_close = settings.UNRATED_CLOSE_AFTER_DAYS * DAY
        self.address = _encrypted_request("address", "东街12号")
        self.contact_phone = _encrypted_request("contact_phone", "13912345678")
        self.statuses: Counter[str] = Counter()
        self.counts: Counter[str] = Counter()

    def submission_times(self, n: int) -> list[float]:
        """``n`` times over the last ``HISTORY_DAYS`` days, most in the day (local time), sorted."""
        rng = self.rng
        today = (self.now + LOCAL_OFFSET) // DAY * DAY - LOCAL_OFFSET  # local midnight, as UTC
        times = []
        while len(times) < n:
            t = today - rng.randrange(HISTORY_DAYS) * DAY + (self.hour_pick() + rng.random()) * HOUR
            if t < self.now - 1:
                times.append(t)
        times.sort()
        return times

    def _lognormal(self, median: float, sigma: float, cap: float) -> float:
        return min(self.rng.lognormvariate(math.log(median), sigma), cap)

    def _office(self, t: float, urgency: str) -> float:
        """When staff act on what reaches them at ``t``: office hours (``OFFICE_HOURS``, local)
        for normal requests, which otherwise wait for the next morning; urgent and critical
        ones at once (the centre's duty dispatcher)."""
        if urgency != "normal":
            return t
        local = t + LOCAL_OFFSET
        hour = (local % DAY) / HOUR
        opens, closes = OFFICE_HOURS
        if opens <= hour < closes:
            return t
        morning = local - local % DAY + opens * HOUR + (DAY if hour >= closes else 0)
        return morning - LOCAL_OFFSET + self.rng.uniform(0, 90) * 60

    def write(self, first_id: int, created_times: list[float]) -> None:
        """The requests submitted at ``created_times`` (ids from ``first_id``) and their rows,
        each table's in the order of time."""
        out = _Rows()
        for i, created in enumerate(created_times):
            self._emit(self._live(first_id + i, created), out)
        for rows in (out.events, out.offers, out.ratings):
            rows.sort()
        _copy(
            "service_requests_servicerequest",
            "id, channel, title, description, address, contact_name, contact_phone, window_start, window_end, "
            "urgency, volunteers_needed, volunteers_accepted, status, status_reason, created_at, status_changed_at, "
            "category_id, entered_by_id, requester_id, station_id, township_id, village_id, status_reason_code, "
            "status_reason_params, dispatch_mode",
            out.requests,
        )
        _copy(
            "service_requests_requestevent",
            "request_id, from_status, to_status, actor_id, reason, reason_code, reason_params, created_at",
            [line for _, line in out.events],
        )
        _copy(
            "dispatch_offer",
            "request_id, volunteer_id, status, via, wave, offered_by_id, created_at, expires_at, responded_at, "
            "response_note, checked_in_at, checked_out_at, hours, report",
            [line for _, line in out.offers],
        )
        _copy(
            "ratings_rating",
            "request_id, score, tags, comment, rated_by_id, on_behalf, created_at",
            [line for _, line in out.ratings],
        )
        _copy(
            "matching_matchstate",
            "request_id, waves_sent, waves_at_this_reach, widened, needs_person, updated_at",
            out.matches,
        )
        self.counts.update(
            requests=len(out.requests),
            events=len(out.events),
            offers=len(out.offers),
            ratings=len(out.ratings),
            matches=len(out.matches),
        )

    def _live(self, rid: int, created: float) -> _Life:
        """A request's whole timeline, as if nothing were in the future."""
        rng = self.rng
        township = self.township_pick()
        channel = self.channel_pick()
        requester = rng.choice(self.residents[township])
        staff = self.township_staff[township]
        life = _Life(
            id=rid,
            created=created,
            township=township,
            village=self.village_picks[township](),
            category=self.category_pick(),
            urgency=self.urgency_pick(),
            channel=channel,
            requester=requester,
            entered_by=requester if channel == "web" else rng.choice(staff),
            needed=2 if rng.random() < 0.10 else 1,
        )
        fate = self.fate_pick()
        stage = self.stage_pick() if fate == "cancelled" else ""
        category, urgency, steps = life.category, life.urgency, life.steps
        if stage == "submitted" and category.auto_accept:
            stage = "queued"

        def cancel_between(start: float, end: float, from_status: str) -> _Life:
            at = start + rng.random() * (end - start)
            by_resident = rng.random() < 0.7
            typed = rng.choice(CANCEL_TEXTS) if by_resident and rng.random() < 0.3 else ""
            code = "" if typed else ("cancelled_by_resident" if by_resident else "cancelled_by_staff")
            actor = requester if by_resident else rng.choice(staff)
            life.cancel = (at, typed, code)
            steps.append((at, from_status, "cancelled", actor, typed, code, "{}"))
            for offer in life.offers:
                offer.withdraw(at, typed)
            return life

        if channel == "web":
            steps.append((created, "", "submitted", life.entered_by, "", "", "{}"))
        else:
            params = f'{{"channel": "{CHANNEL_TEXT[channel]}"}}'
            steps.append((created, "", "submitted", life.entered_by, "", "entered_on_behalf", params))

        # 审核: a person's (5 % rejected), or none for an auto-accept field.
        if category.auto_accept:
            queued = created + 0.004
            steps.append((queued, "submitted", "queued", None, "", "auto_accepted", "{}"))
        else:
            queued = self._office(created + self._lognormal(REVIEW_MEDIAN[urgency], 1.0, 2 * DAY), urgency)
            if stage == "submitted":
                return cancel_between(created + 1, queued, "submitted")
            if fate == "rejected":
                steps.append((queued, "submitted", "rejected", rng.choice(staff), rng.choice(REJECT_TEXTS), "", "{}"))
                return life
            steps.append((queued, "submitted", "queued", rng.choice(staff), "", "", "{}"))

        # 派单: the queue's wave in auto mode, else a person; escalated to the centre when the
        # request waits in the queue past its urgency's limit (the SLA sweep, once a minute).
        mode = category.mode
        if mode == "auto":
            offer_at = queued + rng.uniform(5, 90)
        else:
            offer_at = self._office(queued + self._lognormal(DISPATCH_MEDIAN[urgency], 1.2, 3 * DAY), urgency)
        from_status = "queued"
        offered_by = None if mode == "auto" else rng.choice(staff)
        escalate_at = max(created + self.escalate_after[urgency], queued) + rng.uniform(0, 60)
        if mode != "auto" and escalate_at < offer_at:
            steps.append((escalate_at, "queued", "escalated", None, "", "escalated_overdue", "{}"))
            from_status = "escalated"
            offered_by = rng.choice(self.centre_staff)
            offer_at = escalate_at + self._lognormal(DISPATCH_MEDIAN[urgency], 1.0, DAY)
        if stage == "queued":
            return cancel_between(queued, offer_at, from_status)

        expiry = self.expiry[urgency]
        via = "directed" if from_status == "escalated" else mode
        pool = self.volunteers[township]
        wave = 1
        if rng.random() < WAVE_FAILS:  # nobody takes the first wave: back to the queue, a second one
            declined = rng.random() < 0.6
            if declined:
                lapsed = offer_at + min(rng.expovariate(1 / 900), expiry * 0.9)
            else:
                lapsed = offer_at + expiry + rng.uniform(0, 60)
            life.offers.append(
                _Offer(
                    volunteer=rng.choice(pool),
                    created=offer_at,
                    expires=offer_at + expiry,
                    via=via,
                    wave=1 if via == "auto" else None,
                    offered_by=offered_by,
                    changes=[(offer_at, "offered"), (lapsed, "declined" if declined else "expired")],
                    responded=lapsed if declined else None,
                )
            )
            steps.append((offer_at, from_status, "offered", offered_by, "", *_sent(via, 1, wave)))
            steps.append((lapsed, "offered", "queued", None, "", "offers_ran_out", "{}"))
            from_status, wave = "queued", 2
            offer_at = lapsed + self._lognormal(10 * 60, 0.8, 6 * HOUR)
        steps.append((offer_at, from_status, "offered", offered_by, "", *_sent(via, life.needed, wave)))
        answers = [offer_at + min(rng.expovariate(1 / 720), expiry * 0.9) for _ in range(life.needed)]
        for volunteer, answer in zip(rng.sample(pool, life.needed), answers, strict=True):
            life.offers.append(
                _Offer(
                    volunteer=volunteer,
                    created=offer_at,
                    expires=offer_at + expiry,
                    via=via,
                    wave=wave if via == "auto" else None,
                    offered_by=offered_by,
                    changes=[(offer_at, "offered"), (answer, "accepted")],
                    responded=answer,
                )
            )
        accepted = max(answers)
        if stage == "offered":
            return cancel_between(offer_at, accepted, "offered")
        serving = life.offers[-life.needed :]
        steps.append((accepted, "offered", "accepted", serving[-1].volunteer[1], "", "fully_staffed", "{}"))

        # The service: at the wanted time (office hours), or soon for "as soon as possible".
        if rng.random() < ASAP:
            check_in = accepted + rng.uniform(20, 90) * 60
        else:
            local = created + rng.uniform(4 * HOUR, 5 * DAY) + LOCAL_OFFSET
            hour = min(max((local % DAY) // HOUR, 8), 17)
            wanted = local - local % DAY + hour * HOUR - LOCAL_OFFSET
            if wanted < accepted + 20 * 60:
                wanted = (accepted + HOUR) // HOUR * HOUR
            life.window = (wanted, wanted + 2 * HOUR)
            check_in = wanted + rng.uniform(-10, 15) * 60
        check_in = max(check_in, accepted + 5 * 60)
        if stage == "accepted":
            return cancel_between(accepted, check_in, "accepted")
        steps.append((check_in, "accepted", "in_service", serving[0].volunteer[1], "", "volunteer_arrived", "{}"))
        done = 0.0
        for offer in serving:
            hours = self.hours_pick()
            offer.checked_in = check_in + rng.uniform(0, 5) * 60
            offer.checked_out = offer.checked_in + float(hours) * HOUR + rng.uniform(-10, 10) * 60
            offer.hours = hours
            offer.changes += [(offer.checked_in, "in_service"), (offer.checked_out, "completed")]
            done = max(done, offer.checked_out)
        steps.append((done, "in_service", "completed", serving[-1].volunteer[1], "", "all_completed", "{}"))

        # 评单 within the week for 60 %, else closed unrated by beat after UNRATED_CLOSE_AFTER_DAYS.
        rate_after = self._lognormal(5 * HOUR, 1.2, 30 * DAY)
        if rng.random() < RATED and rate_after < self.unrated_close:
            rated = done + rate_after
            score = self.score_pick()
            tags = rng.sample(GOOD_TAGS if score >= 4 else BAD_TAGS, rng.choice((0, 1, 1, 2)))
            behalf = rng.random() < ON_BEHALF
            rater = rng.choice(staff) if behalf else requester
            life.rating = (rated, score, "[" + ", ".join(f'"{t}"' for t in tags) + "]", rater, behalf)
            steps.append((rated, "completed", "rated", rater, "", "", "{}"))
            steps.append((rated + 0.001, "rated", "closed", rater, "", "rated_and_closed", "{}"))
        else:
            closed = done + self.unrated_close + rng.uniform(0, 600)
            days = f'{{"days": {self.unrated_close / DAY:.0f}}}'
            steps.append((closed, "completed", "closed", None, "", "closed_unrated", days))
        return life

    def _emit(self, life: _Life, out: _Rows) -> None:
        """The rows of what happened to ``life`` before ``now``."""
        now, rid = self.now, life.id
        happened = [step for step in life.steps if step[0] <= now]
        for at, from_status, to_status, actor, typed, code, params in happened:
            out.events.append(
                (at, f"{rid}\t{from_status}\t{to_status}\t{_n(actor)}\t{typed}\t{code}\t{params}\t{_ts(at)}\n")
            )
        changed_at, status = happened[-1][0], happened[-1][2]
        self.statuses[status] += 1
        reason = reason_code = ""
        if status == "rejected":
            reason = happened[-1][4]
        elif status == "cancelled" and life.cancel is not None:
            reason, reason_code = life.cancel[1], life.cancel[2]
        held = 0
        for offer in life.offers:
            if offer.created > now:
                continue
            offer_status = [s for at, s in offer.changes if at <= now][-1]
            held += offer_status in ("accepted", "in_service")
            done = offer_status == "completed"
            responded = offer.responded if offer.responded is not None and offer.responded <= now else None
            checked_in = offer.checked_in if offer.checked_in is not None and offer.checked_in <= now else None
            note = offer.note if offer_status == "withdrawn" else ""
            out.offers.append(
                (
                    offer.created,
                    f"{rid}\t{offer.volunteer[0]}\t{offer_status}\t{offer.via}\t{_n(offer.wave)}\t"
                    f"{_n(offer.offered_by)}\t{_ts(offer.created)}\t{_ts(offer.expires)}\t{_ts(responded)}\t"
                    f"{note}\t{_ts(checked_in)}\t{_ts(offer.checked_out if done else None)}\t"
                    f"{_n(offer.hours if done else None)}\t{'服务完成' if done else ''}\n",
                )
            )
        if life.rating is not None and life.rating[0] <= now:
            rated, score, tags, rater, behalf = life.rating
            out.ratings.append((rated, f"{rid}\t{score}\t{tags}\t\t{rater}\t{'t' if behalf else 'f'}\t{_ts(rated)}\n"))
        mode = life.category.mode
        if mode != "directed" and any(step[2] == "queued" for step in happened):
            waves = sum(1 for step in happened if step[2] == "offered")
            needs = "no_candidates" if status == "queued" and self.rng.random() < NEEDS_PERSON else ""
            out.matches.append(f"{rid}\t{waves}\t{waves}\tf\t{needs}\t{_ts(changed_at)}\n")
        accepted = life.needed if status in ("completed", "closed") else 0 if status == "cancelled" else held
        start, end = life.window or (None, None)
        out.requests.append(
            f"{rid}\t{life.channel}\t{life.category.code} 服务需求\t{DESCRIPTION}\t{self.address}\t王秀兰\t"
            f"{self.contact_phone}\t{_ts(start)}\t{_ts(end)}\t{life.urgency}\t{life.needed}\t{accepted}\t"
            f"{status}\t{reason}\t{_ts(life.created)}\t{_ts(changed_at)}\t{life.category.id}\t{life.entered_by}\t"
            f"{life.requester}\t{self.stations[life.village]}\t{life.township}\t{life.village}\t{reason_code}\t"
            f"{{}}\t{mode}\n"
        )


@dataclass
class _Rows:
    """One round's COPY lines; events, offers and ratings with their time, to be sorted by it."""

    requests: list[str] = field(default_factory=list)
    events: list[tuple[float, str]] = field(default_factory=list)
    offers: list[tuple[float, str]] = field(default_factory=list)
    ratings: list[tuple[float, str]] = field(default_factory=list)
    matches: list[str] = field(default_factory=list)


def _sent(via: str, n: int, wave: int) -> tuple[str, str]:
    """The reason code and parameters of the event of offers sent: a wave of the queue, or a person's."""
    if via == "auto":
        return "wave_sent", f'{{"wave": {wave}, "n": {n}}}'
    return "offers_sent", f'{{"n": {n}}}'


def _encrypted_request(field_name: str, value: str) -> str:
    from apps.service_requests.models import ServiceRequest

    return _encrypted(ServiceRequest, field_name, value)


# --- The whole city ------------------------------------------------------------------------------


def build_world(
    n_requests: int, *, n_volunteers: int = 20_000, seed: int = 1, log: Callable[[str], None] = print
) -> World:
    """The city with ``n_requests`` requests over three years (see the module's docstring), in
    the current (empty, migrated) database."""
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.utils import timezone

    from apps.accounts.models import User
    from apps.organisation.models import OrgNode, Place, ServiceCategory

    seconds: dict[str, float] = {}
    started = time.perf_counter()
    rng = random.Random(seed)
    now_dt = timezone.now()
    now = now_dt.timestamp()
    call_command("load_places", verbosity=0)
    ServiceCategory.objects.filter(code__in=AUTO_ACCEPT).update(auto_accept=True)
    townships = list(Place.objects.filter(kind=Place.Kind.TOWNSHIP).order_by("code"))
    villages: dict[int, list[int]] = {t.id: [] for t in townships}
    for village_id, parent_id in Place.objects.filter(kind=Place.Kind.VILLAGE).values_list("id", "parent_id"):
        villages[parent_id].append(village_id)
    stations = dict(
        OrgNode.objects.filter(kind=OrgNode.Kind.VILLAGE_STATION, place__isnull=False).values_list("place_id", "id")
    )
    offices = {
        node.place_id: node for node in OrgNode.objects.filter(kind=OrgNode.Kind.TOWNSHIP_OFFICE, place__isnull=False)
    }
    centre = OrgNode.objects.get(kind=OrgNode.Kind.CENTRE)
    # Uneven: a township's share grows with its villages, the three 街道 (the town itself) most.
    weights = {t.id: len(villages[t.id]) ** 0.8 * (2.5 if t.name.endswith("街道") else 1.0) for t in townships}
    township_pick = _Pick(rng, list(weights.items()))
    village_picks = {
        t: _Pick(rng, [(v, rng.lognormvariate(0, 0.6)) for v in sorted(ids)]) for t, ids in villages.items()
    }

    centre_staff = [
        User.objects.create_user(phone=f"1390000000{i}", password=None, name="中心调度员", staff_node=centre).id
        for i in range(3)
    ]
    township_staff: dict[int, list[int]] = {}
    for n, township in enumerate(townships):
        township_staff[township.id] = [
            User.objects.create_user(
                phone=f"138{n:04d}{i:04d}", password=None, name="实践所工作人员", staff_node=offices[township.id]
            ).id
            for i in range(2)
        ]
    n_residents = max(2_000, n_requests // 25)
    residents, volunteers = _people(
        n_residents=n_residents, n_volunteers=n_volunteers, township_pick=township_pick, villages=villages, now=now
    )
    seconds["people"] = time.perf_counter() - started

    categories = [
        _Category(id=c.id, code=c.code, mode=c.default_dispatch_mode, auto_accept=c.auto_accept)
        for c in ServiceCategory.objects.order_by("id")
    ]
    requests = _Requests(
        rng=rng,
        now=now,
        township_pick=township_pick,
        village_picks=village_picks,
        stations=stations,
        categories=categories,
        residents=residents,
        volunteers=volunteers,
        township_staff=township_staff,
        centre_staff=centre_staff,
        settings=settings,
    )
    tables = [
        "service_requests_servicerequest",
        "service_requests_requestevent",
        "dispatch_offer",
        "ratings_rating",
        "matching_matchstate",
    ]
    counted = time.perf_counter()
    times = requests.submission_times(n_requests)
    with bulk_load(tables):
        for start in range(0, n_requests, CHUNK):
            requests.write(start + 1, times[start : start + CHUNK])
            if (start // CHUNK) % 8 == 7:
                log(f"  … {start + CHUNK:,} requests written ({time.perf_counter() - counted:.0f} s)")
        seconds["requests"] = time.perf_counter() - counted
        counted = time.perf_counter()
    seconds["indexes"] = time.perf_counter() - counted
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('service_requests_servicerequest', 'id'), %s)", [n_requests]
        )
    busiest = max(weights, key=lambda t: weights[t])
    world = World(
        now=now_dt,
        centre_user=User.objects.select_related("staff_node").get(id=centre_staff[0]),
        township_user=User.objects.select_related("staff_node").get(id=township_staff[busiest][0]),
        township=next(t for t in townships if t.id == busiest),
        requests=requests.counts["requests"],
        events=requests.counts["events"],
        offers=requests.counts["offers"],
        ratings=requests.counts["ratings"],
        match_states=requests.counts["matches"],
        residents=n_residents,
        volunteers=n_volunteers,
        statuses=requests.statuses,
        seconds=seconds,
    )
    return world


# --- The facts, in one statement -----------------------------------------------------------------


def seconds_sql(at: str, since: str) -> str:
    """``facts._seconds`` in SQL: whole seconds (truncated) from ``since`` to ``at``, at least 0,
    NULL without ``at`` (GREATEST alone would make that 0)."""
    return f"CASE WHEN {at} IS NOT NULL THEN GREATEST(0, trunc(extract(epoch FROM {at} - {since})))::int END"


def facts_sql() -> str:
    """One INSERT … SELECT writing every request's fact from the raw tables: the columns
    ``apps.dashboard.facts._rows`` computes, in SQL (checked against it on a sample)."""
    from apps.dashboard.facts import TAG_BITS, TYPED_REASON

    tag_cases = " ".join(f"WHEN '{tag}' THEN {bit}" for tag, bit in TAG_BITS.items())
    return f"""
INSERT INTO dashboard_requestfact (
    request_id, created_at, day, township_id, village_id, station_id, category_id, urgency, status,
    reason_code, review_seconds, offer_seconds, accept_seconds, complete_seconds, completed_at,
    hours, volunteers, score, tag_bits, rated_at)
WITH ev AS (
    SELECT request_id,
           min(created_at) FILTER (WHERE from_status = 'submitted' AND to_status IN ('queued', 'rejected')
                                     AND actor_id IS NOT NULL) AS reviewed,
           min(created_at) FILTER (WHERE to_status = 'offered') AS offered,
           min(created_at) FILTER (WHERE to_status = 'accepted') AS accepted,
           min(created_at) FILTER (WHERE to_status = 'completed') AS completed
      FROM service_requests_requestevent
     GROUP BY request_id
), done AS (
    SELECT request_id, sum(hours) AS hours, count(*) AS volunteers
      FROM dispatch_offer
     WHERE status = 'completed'
     GROUP BY request_id
)
SELECT r.id, r.created_at, (r.created_at AT TIME ZONE 'Asia/Shanghai')::date,
       r.township_id, r.village_id, r.station_id, r.category_id, r.urgency, r.status,
       CASE WHEN r.status IN ('rejected', 'cancelled')
            THEN COALESCE(NULLIF(r.status_reason_code, ''),
                          CASE WHEN r.status_reason <> '' THEN '{TYPED_REASON}' ELSE '' END)
            ELSE '' END,
       {seconds_sql("ev.reviewed", "r.created_at")}, {seconds_sql("ev.offered", "r.created_at")},
       {seconds_sql("ev.accepted", "r.created_at")}, {seconds_sql("ev.completed", "r.created_at")},
       ev.completed,
       COALESCE(done.hours, 0), COALESCE(done.volunteers, 0),
       g.score,
       COALESCE((SELECT bit_or(CASE t {tag_cases} ELSE 0 END) FROM jsonb_array_elements_text(g.tags) t), 0),
       g.created_at
  FROM service_requests_servicerequest r
  LEFT JOIN ev ON ev.request_id = r.id
  LEFT JOIN done ON done.request_id = r.id
  LEFT JOIN ratings_rating g ON g.request_id = r.id
"""  # noqa: S608 — constants only


def fill_facts() -> int:
    """Every request's fact written by :func:`facts_sql` (the table emptied first)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE dashboard_requestfact")
        cursor.execute("SET work_mem = '256MB'")
        with bulk_load(["dashboard_requestfact"]):
            cursor.execute(facts_sql())
            written = cursor.rowcount
        cursor.execute("RESET work_mem")
    return written
