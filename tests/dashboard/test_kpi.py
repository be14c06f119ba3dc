"""KPIs against the hand-computed values of the seeded month (tests/dashboard/fixture.py)."""

from datetime import date
from decimal import Decimal

import pytest

from apps.accounts.areas import WHOLE_CITY, area_of
from apps.dashboard.kpi import KpiQuery, facts_for, kpis, nearest_rank
from apps.dashboard.models import RequestFact
from apps.jobs.models import Job
from apps.service_requests.models import Status

from .fixture import build_month

pytestmark = pytest.mark.django_db
NOVEMBER = KpiQuery(start=date(2026, 11, 1), end=date(2026, 11, 30))


def test_nearest_rank_is_percentile_disc() -> None:
    assert nearest_rank([], 0.5) is None
    assert nearest_rank([7], 0.9) == 7
    assert nearest_rank([1, 2, 3, 4], 0.5) == 2
    assert nearest_rank([1, 2, 3, 4], 0.9) == 4
    assert nearest_rank(list(range(1, 11)), 0.9) == 9
    assert nearest_rank(list(range(1, 101)), 0.9) == 90


def test_facts_of_the_month(cast, org) -> None:
    month = build_month(cast, org)
    r1 = RequestFact.objects.get(request=month.r1)
    assert (r1.review_seconds, r1.offer_seconds, r1.accept_seconds, r1.complete_seconds) == (600, 1200, 1800, 7200)
    assert (r1.hours, r1.volunteers, r1.score, r1.status, r1.day) == (
        Decimal("1.5"),
        1,
        5,
        Status.CLOSED,
        date(2026, 11, 2),
    )
    r3 = RequestFact.objects.get(request=month.r3)
    assert (r3.status, r3.reason_code, r3.review_seconds, r3.offer_seconds) == (Status.REJECTED, "typed", 300, None)
    r4 = RequestFact.objects.get(request=month.r4)
    assert (r4.status, r4.reason_code, r4.review_seconds) == (Status.CANCELLED, "cancelled_by_resident", 3000)
    r5 = RequestFact.objects.get(request=month.r5)
    assert (r5.status, r5.review_seconds, r5.completed_at) == (Status.SUBMITTED, None, None)


def test_every_change_asks_for_its_fact(cast, org) -> None:
    month = build_month(cast, org)
    pending = set(Job.objects.filter(task="dashboard.fact").values_list("subject_id", flat=True))
    assert pending == {month.r1.id, month.r2.id, month.r3.id, month.r4.id, month.r5.id}


def test_city_kpis_of_the_month(cast, org) -> None:
    build_month(cast, org)
    figures = kpis(facts=facts_for(area=WHOLE_CITY, query=NOVEMBER), grain="day")
    totals = figures["totals"]
    assert {
        k: totals[k] for k in ("submitted", "completed", "rejected", "cancelled", "open", "rated", "score_sum")
    } == {
        "submitted": 5,
        "completed": 2,
        "rejected": 1,
        "cancelled": 1,
        "open": 1,
        "rated": 2,
        "score_sum": 7,
    }
    assert totals["completion_rate"] == 0.5  # 2 completed of the 4 received (5 − 1 rejected)
    assert totals["average_score"] == 3.5
    assert totals["hours"] == Decimal("3.5")
    assert totals["active_volunteers"] == 2
    # Nearest rank: review [300, 600, 1800, 3000] s; offer [1200, 2400]; accept [1800, 3600]; complete [7200, 10800].
    assert figures["durations"] == {
        "review": {"count": 4, "median": 600, "p90": 3000},
        "offer": {"count": 2, "median": 1200, "p90": 2400},
        "accept": {"count": 2, "median": 1800, "p90": 3600},
        "complete": {"count": 2, "median": 7200, "p90": 10800},
    }
    assert [(d["score"], d["count"]) for d in figures["satisfaction"]["distribution"]] == [
        (1, 0),
        (2, 1),
        (3, 0),
        (4, 0),
        (5, 1),
    ]
    assert {t["tag"]: t["count"] for t in figures["satisfaction"]["tags"]} == {
        "friendly": 1,
        "on_time": 0,
        "skilled": 0,
        "patient": 0,
        "late": 1,
        "unsolved": 0,
    }
    assert [(r["code"], r["count"]) for r in figures["reasons"]["cancelled"]] == [("cancelled_by_resident", 1)]
    assert [(r["code"], r["count"]) for r in figures["reasons"]["rejected"]] == [("typed", 1)]
    assert [(str(r["period"]), r["submitted"], r["completed"]) for r in figures["series"]] == [
        ("2026-11-02", 1, 1),
        ("2026-11-03", 1, 1),
        ("2026-11-04", 1, 0),
        ("2026-11-05", 1, 0),
        ("2026-11-06", 1, 0),
    ]
    assert [(r["township"], r["submitted"], r["completed"]) for r in figures["by_township"]] == [
        ("桃园街道", 4, 2),
        ("码头镇", 1, 0),
    ]
    assert [(r["category"], r["submitted"]) for r in figures["by_category"]] == [("便民服务", 4), ("环境治理", 1)]
    weekly = kpis(facts=facts_for(area=WHOLE_CITY, query=NOVEMBER), grain="week")
    assert [(str(r["period"]), r["submitted"]) for r in weekly["series"]] == [("2026-11-02", 5)]


def test_kpis_are_of_the_viewers_area(cast, org) -> None:
    build_month(cast, org)

    def submitted(user) -> tuple[int, int]:
        totals = kpis(facts=facts_for(area=area_of(user), query=NOVEMBER), grain="day")["totals"]
        return totals["submitted"], totals["completed"]

    assert submitted(cast.dispatcher) == (5, 2)
    assert submitted(cast.staff_a) == (4, 2)
    assert submitted(cast.staff_b) == (1, 0)
    assert submitted(cast.station_staff_a1) == (4, 2)
    assert submitted(cast.sub_centre_staff) == (4, 2)  # the field "convenience", city-wide
    assert submitted(cast.resident) == (0, 0)
    one_day = KpiQuery(start=date(2026, 11, 3), end=date(2026, 11, 3))
    assert kpis(facts=facts_for(area=WHOLE_CITY, query=one_day), grain="day")["totals"]["submitted"] == 1
    b_only = KpiQuery(start=NOVEMBER.start, end=NOVEMBER.end, township_id=org["township_b"].id)
    assert kpis(facts=facts_for(area=area_of(cast.staff_a), query=b_only), grain="day")["totals"]["submitted"] == 0


def test_nearest_rank_matches_postgresql(require_postgres) -> None:
    from django.db import connection

    for n in (1, 2, 3, 7, 10, 11, 99, 1000):
        values = [(i * 7919) % 1009 for i in range(n)]
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY x), percentile_disc(0.9) WITHIN GROUP (ORDER BY x)"
                " FROM unnest(%s::int[]) AS x",
                [values],
            )
            median, p90 = cursor.fetchone()
        ordered = sorted(values)
        assert (nearest_rank(ordered, 0.5), nearest_rank(ordered, 0.9)) == (median, p90), n


def test_nearest_rank_of_many_runs_is_that_of_all_their_values() -> None:
    import random

    from apps.dashboard.kpi import nearest_rank_of_many

    rng = random.Random(9)
    for _ in range(200):
        runs = [sorted(rng.randrange(0, 50) for _ in range(rng.randrange(0, 9))) for _ in range(rng.randrange(1, 5))]
        merged = sorted(v for run in runs for v in run)
        for fraction in (0.5, 0.9):
            assert nearest_rank_of_many(runs, fraction) == nearest_rank(merged, fraction), (runs, fraction)


def test_ended_months_come_from_the_cache_until_one_of_their_facts_changes(cast, org) -> None:
    from datetime import timedelta

    from apps.dashboard.kpi import kpis_for
    from apps.dispatch.services import request_cancel
    from apps.service_requests.models import ServiceRequest

    from .fixture import clock

    month = build_month(cast, org)
    autumn = KpiQuery(start=date(2026, 10, 20), end=date(2026, 12, 5), grain="week")
    later = date(2027, 1, 15)  # October and November have ended; their stretches are kept
    first = kpis_for(area=WHOLE_CITY, query=autumn, today=later)
    assert first == kpis(facts=facts_for(area=WHOLE_CITY, query=autumn), grain="week")
    assert first["totals"]["submitted"] == 5
    # Kept: a change made behind the dashboard's back (no fact rewritten) is not seen ...
    RequestFact.objects.filter(request=month.r5).update(status=Status.CANCELLED)
    assert kpis_for(area=WHOLE_CITY, query=autumn, today=later) == first
    # ... while the same change through the services rewrites the fact and gives November a new version.
    RequestFact.objects.filter(request=month.r5).update(status=Status.SUBMITTED)
    with clock(month.r5.created_at + timedelta(hours=1)):
        request_cancel(request=ServiceRequest.objects.get(id=month.r5.id), actor=cast.resident, reason="")
    from apps.dashboard.facts import facts_refresh

    facts_refresh(request_ids=[month.r5.id])
    after = kpis_for(area=WHOLE_CITY, query=autumn, today=later)
    assert (after["totals"]["cancelled"], after["totals"]["open"]) == (2, 0)
    assert after == kpis(facts=facts_for(area=WHOLE_CITY, query=autumn), grain="week")
    # The current month is always read from the database.
    assert kpis_for(area=WHOLE_CITY, query=autumn, today=date(2026, 11, 20)) == after
    # Each area and filter keeps its own stretches.
    assert kpis_for(area=area_of(cast.staff_b), query=autumn, today=later)["totals"]["submitted"] == 1


def test_a_rewrite_that_changes_nothing_keeps_the_months_cache(cast, org) -> None:
    from apps.dashboard.facts import facts_refresh, month_versions

    build_month(cast, org)
    november = date(2026, 11, 1)
    before = month_versions([november])
    assert facts_refresh() == 0  # the nightly rewrite: every fact already right
    assert month_versions([november]) == before
    RequestFact.objects.filter(request_id__in=RequestFact.objects.values("request_id")[:1]).update(hours=99)
    assert facts_refresh() == 1  # the one fact put right again, and its month renewed
    assert month_versions([november]) != before


def test_the_migration_fills_the_facts_of_an_existing_database(cast, org) -> None:
    from django.apps import apps

    from apps.dashboard.facts import facts_fill_for_migration

    build_month(cast, org)
    columns = ("request_id", "status", "review_seconds", "hours", "score")
    expected = sorted(RequestFact.objects.values_list(*columns))
    RequestFact.objects.all().delete()
    facts_fill_for_migration(apps, None)
    assert sorted(RequestFact.objects.values_list(*columns)) == expected
    assert len(expected) == 5
