"""回访: follow-up cases opened by low ratings and complaints, the calls that close them, the sweep
that escalates overdue ones, routine samples, and the API over the cast."""

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from unittest import mock
from zoneinfo import ZoneInfo

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from django.db import connection
from django.utils import timezone, translation

from apps.accounts.models import User
from apps.core.errors import Conflict, DomainError, NotFound
from apps.notifications.messages import render
from apps.notifications.models import Kind, Notification
from apps.ratings.models import FollowUp, FollowUpCall, FollowUpOutcome, FollowUpReason, FollowUpStatus, Tag
from apps.ratings.selectors import requests_for_routine_follow_up
from apps.ratings.services import (
    follow_up_record_call,
    follow_ups_escalate_overdue,
    follow_ups_sample,
    rating_submit,
)
from apps.ratings.tasks import escalate_overdue_follow_ups
from apps.service_requests.models import RequestEvent, ServiceRequest, Status
from tests.accounts.factories import make_user
from tests.conftest import Cast
from tests.ratings.factories import TITLE_A, serve
from tests.service_requests.factories import submit_request

SHANGHAI = ZoneInfo("Asia/Shanghai")
# When the ratings of these tests are given: 09:00 in Zhuozhou.
RATED_AT = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)
TITLE_B = "帮忙清理院子里的积雪"
TITLE_C = "陪同老人去卫生院复查"
CONTACT_PHONE = "13912345678"  # every request's contact number (tests/service_requests/factories.py)


def rate_at(moment: datetime, request: ServiceRequest, actor: User, score: int, tags: list[str]) -> None:
    with mock.patch("django.utils.timezone.now", return_value=moment):
        rating_submit(request=request, actor=actor, score=score, tags=tags, comment="志愿者来晚了")


def cases_of(request: ServiceRequest) -> list[tuple[str, str, datetime]]:
    return list(FollowUp.objects.filter(request=request).values_list("reason", "status", "due_at"))


def notices(kind: str) -> list[tuple[int, int | None, str]]:
    """(recipient, request, link) of every notification of ``kind``."""
    return sorted(Notification.objects.filter(kind=kind).values_list("recipient_id", "request_id", "link"))


def state() -> dict[str, list[tuple[Any, ...]]]:
    """Everything a 回访 write touches; a refused one leaves it equal."""
    return {
        "cases": sorted(
            FollowUp.objects.values_list(
                "id", "request_id", "reason", "status", "due_at", "escalated_at", "closed_at", "outcome", "notes"
            )
        ),
        "calls": sorted(FollowUpCall.objects.values_list("id", "case_id", "reached", "notes")),
        "notifications": sorted(Notification.objects.values_list("id", "recipient_id", "kind")),
    }


@pytest.fixture
def completed(cast, org) -> ServiceRequest:
    return serve(cast, org, village=org["village_a1"])


@pytest.fixture
def station_staff_a2(org) -> User:
    return make_user(name="冯站长", staff_node=org["station_a2"])


# --- opening cases ----------------------------------------------------------------------------------


@pytest.mark.parametrize("score", [1, 2])
def test_a_rating_of_one_or_two_stars_opens_one_low_rating_case_due_in_48_hours(cast, completed, score):
    rate_at(RATED_AT, completed, cast.resident, score, [])

    assert cases_of(completed) == [(FollowUpReason.LOW_RATING, FollowUpStatus.OPEN, RATED_AT + timedelta(hours=48))]
    case = FollowUp.objects.get(request=completed)
    assert (case.station_id, case.opened_at) == (completed.station_id, RATED_AT)
    assert (case.escalated_at, case.closed_at, case.closed_by, case.reached, case.outcome) == (
        None,
        None,
        None,
        None,
        "",
    )


def test_a_low_rating_tells_the_staff_whose_area_holds_the_request_once_each(cast, completed):
    rate_at(RATED_AT, completed, cast.resident, 1, [])

    case = FollowUp.objects.get(request=completed)
    # The village's station, the township's office and the field's sub-centre (as for every request).
    expected = sorted([cast.station_staff_a1.id, cast.staff_a.id, cast.sub_centre_staff.id])
    assert notices(Kind.FOLLOW_UP_OPENED) == [(uid, completed.id, f"/s/followups/{case.id}/") for uid in expected]
    notification = Notification.objects.filter(kind=Kind.FOLLOW_UP_OPENED).first()
    assert notification is not None
    with translation.override("zh-hans"):
        assert render(notification.kind, notification.params, notification.request_id) == (
            "新的回访任务",
            f"服务#{completed.id}「{TITLE_A}」需要回访（评分较低），请在2026-03-04 09:00前联系群众。",
        )


@pytest.mark.parametrize("tag", [Tag.LATE, Tag.UNSOLVED])
def test_a_four_star_rating_with_a_complaint_tag_opens_a_complaint_case(cast, completed, tag):
    rate_at(RATED_AT, completed, cast.resident, 4, [Tag.FRIENDLY, tag])

    assert cases_of(completed) == [(FollowUpReason.COMPLAINT, FollowUpStatus.OPEN, RATED_AT + timedelta(hours=48))]
    notification = Notification.objects.filter(kind=Kind.FOLLOW_UP_OPENED).first()
    assert notification is not None
    with translation.override("zh-hans"):
        _title, body = render(notification.kind, notification.params, notification.request_id)
    assert body == f"服务#{completed.id}「{TITLE_A}」需要回访（投诉标签），请在2026-03-04 09:00前联系群众。"


def test_a_low_score_with_a_complaint_tag_is_one_low_rating_case(cast, completed):
    rate_at(RATED_AT, completed, cast.resident, 2, [Tag.LATE, Tag.UNSOLVED])

    assert cases_of(completed) == [(FollowUpReason.LOW_RATING, FollowUpStatus.OPEN, RATED_AT + timedelta(hours=48))]
    assert len(notices(Kind.FOLLOW_UP_OPENED)) == 3


@pytest.mark.parametrize(
    ("score", "tags"),
    [(5, []), (5, [Tag.FRIENDLY, Tag.ON_TIME, Tag.SKILLED, Tag.PATIENT]), (4, [Tag.PATIENT]), (3, [])],
)
def test_a_rating_of_three_stars_or_more_without_complaint_tags_opens_no_case(cast, completed, score, tags):
    rate_at(RATED_AT, completed, cast.resident, score, tags)

    assert FollowUp.objects.count() == 0
    assert notices(Kind.FOLLOW_UP_OPENED) == []


def test_the_due_time_follows_the_setting(cast, completed, settings):
    settings.FOLLOW_UP_DUE_HOURS = 24

    rate_at(RATED_AT, completed, cast.resident, 1, [])

    assert cases_of(completed) == [(FollowUpReason.LOW_RATING, FollowUpStatus.OPEN, RATED_AT + timedelta(hours=24))]


def test_a_repeated_or_refused_rating_opens_no_second_case(cast, completed):
    rate_at(RATED_AT, completed, cast.resident, 1, [])
    before = state()

    rate_at(RATED_AT, completed, cast.resident, 1, [])  # the same rating again: a retry
    with pytest.raises(Conflict):
        rating_submit(request=completed, actor=cast.staff_a, score=2, tags=[Tag.LATE])

    assert state() == before


def test_a_refused_rating_opens_no_case(cast, org):
    queued = submit_request(requester=cast.resident, category=org["category"], village=org["village_a1"])

    with pytest.raises(Conflict):
        rating_submit(request=queued, actor=cast.resident, score=1, tags=[Tag.LATE])

    assert FollowUp.objects.count() == 0


def test_a_low_rating_of_a_routinely_sampled_request_takes_over_the_open_routine_case(cast, completed):
    [routine] = follow_ups_sample(actor=cast.staff_a, count=1)
    due = routine.due_at

    rate_at(RATED_AT, completed, cast.resident, 1, [])

    assert list(FollowUp.objects.values_list("id", "reason", "status", "due_at")) == [
        (routine.id, FollowUpReason.LOW_RATING, FollowUpStatus.OPEN, due)
    ]
    assert len(notices(Kind.FOLLOW_UP_OPENED)) == 3


# --- calls and closing ------------------------------------------------------------------------------


@pytest.fixture
def case(cast, completed) -> FollowUp:
    rate_at(RATED_AT, completed, cast.resident, 1, [])
    return FollowUp.objects.select_related("request").get(request=completed)


def _english_catalogue(tmp_path, settings) -> None:
    """Serve English from a catalogue of the strings below only, so that the test shows each part
    of the message goes through gettext, whatever the project's catalogue holds today."""
    catalog = Catalog(locale="en")
    catalog.add("回访结果", "Follow-up result")
    catalog.add(
        "您对服务%(ref)s「%(title)s」的反馈已回访办结：%(outcome)s。感谢您的监督。",
        "We followed up your feedback on service %(ref)s “%(title)s”: %(outcome)s. Thank you for keeping watch.",
        flags=["python-format"],
    )
    catalog.add("已解释说明，群众认可", "explained, and the resident accepted it")
    target = tmp_path / "locale" / "en" / "LC_MESSAGES"
    target.mkdir(parents=True)
    with (target / "django.mo").open("wb") as f:
        write_mo(f, catalog)
    settings.LOCALE_PATHS = [tmp_path / "locale"]  # the setting_changed signal drops Django's catalogue cache


def test_closing_with_an_outcome_tells_the_resident_in_their_language(cast, case, tmp_path, settings):
    closed_at = RATED_AT + timedelta(hours=20)
    with mock.patch("django.utils.timezone.now", return_value=closed_at):
        call = follow_up_record_call(
            case=case,
            actor=cast.station_staff_a1,
            reached=True,
            notes="已向老人说明原因",
            outcome="explained",
            close=True,
        )

    stored = FollowUp.objects.get(id=case.id)
    assert (stored.status, stored.closed_at, stored.closed_by, stored.reached, stored.outcome, stored.notes) == (
        FollowUpStatus.CLOSED,
        closed_at,
        cast.station_staff_a1,
        True,
        FollowUpOutcome.EXPLAINED,
        "已向老人说明原因",
    )
    assert list(FollowUpCall.objects.values_list("id", "case_id", "called_by_id", "called_at", "reached", "notes")) == [
        (call.id, case.id, cast.station_staff_a1.id, closed_at, True, "已向老人说明原因")
    ]
    assert notices(Kind.FOLLOW_UP_CLOSED) == [(cast.resident.id, case.request_id, f"/r/requests/{case.request_id}/")]
    notification = Notification.objects.get(kind=Kind.FOLLOW_UP_CLOSED)
    # Stored untranslated, as the choice's source text: each reader gets it in their own language.
    assert notification.params == {"title": TITLE_A, "outcome": "已解释说明，群众认可"}
    with translation.override("zh-hans"):
        assert render(notification.kind, notification.params, notification.request_id) == (
            "回访结果",
            f"您对服务#{case.request_id}「{TITLE_A}」的反馈已回访办结：已解释说明，群众认可。感谢您的监督。",
        )
    _english_catalogue(tmp_path, settings)
    with translation.override("en"):
        assert render(notification.kind, notification.params, notification.request_id) == (
            "Follow-up result",
            f"We followed up your feedback on service #{case.request_id} “{TITLE_A}”: explained, and the resident "
            "accepted it. Thank you for keeping watch.",
        )


def test_a_call_without_closing_keeps_the_case_open_and_tells_no_one(cast, case):
    before = Notification.objects.count()

    follow_up_record_call(case=case, actor=cast.staff_a, reached=False, notes="无人接听", outcome=None, close=False)
    follow_up_record_call(case=case, actor=cast.station_staff_a1, reached=False, notes="  再次无人接听 ", close=False)

    assert FollowUp.objects.get(id=case.id).status == FollowUpStatus.OPEN
    assert list(FollowUpCall.objects.order_by("id").values_list("called_by_id", "reached", "notes")) == [
        (cast.staff_a.id, False, "无人接听"),
        (cast.station_staff_a1.id, False, "再次无人接听"),
    ]
    assert Notification.objects.count() == before


def test_a_resident_never_reached_may_be_closed_as_unresolved(cast, case):
    follow_up_record_call(
        case=case, actor=cast.staff_a, reached=False, notes="三次未接通", outcome="unresolved", close=True
    )

    stored = FollowUp.objects.get(id=case.id)
    assert (stored.status, stored.reached, stored.outcome) == (FollowUpStatus.CLOSED, False, "unresolved")
    assert len(notices(Kind.FOLLOW_UP_CLOSED)) == 1


def test_a_closed_case_refuses_another_call(cast, case):
    follow_up_record_call(case=case, actor=cast.staff_a, reached=True, notes="", outcome="resolved", close=True)
    before = state()

    with pytest.raises(Conflict) as excinfo:
        follow_up_record_call(case=case, actor=cast.staff_a, reached=True, notes="再问一次", outcome=None, close=False)

    assert (excinfo.value.code, str(excinfo.value.message)) == (
        "follow_up_closed",
        "该回访工单已办结，不能再记录回访。",
    )
    assert state() == before


@pytest.mark.parametrize(
    ("call", "code", "message"),
    [
        (
            {"reached": True, "notes": "好" * 501, "outcome": None, "close": False},
            "notes_too_long",
            "回访记录不能超过500个字。",
        ),
        (
            {"reached": True, "notes": "", "outcome": "bogus", "close": True},
            "invalid_outcome",
            "未知的回访结果：bogus",
        ),
        (
            {"reached": True, "notes": "", "outcome": None, "close": True},
            "outcome_required",
            "办结回访时必须选择回访结果。",
        ),
        (
            {"reached": True, "notes": "", "outcome": "resolved", "close": False},
            "outcome_without_close",
            "选择回访结果即表示办结，请同时勾选“办结”。",
        ),
    ],
    ids=["notes-too-long", "unknown-outcome", "close-without-outcome", "outcome-without-close"],
)
def test_a_call_with_bad_input_is_refused_and_changes_nothing(cast, case, call, code, message):
    before = state()

    with pytest.raises(DomainError) as excinfo:
        follow_up_record_call(case=case, actor=cast.staff_a, **call)

    assert (excinfo.value.status_code, excinfo.value.code, str(excinfo.value.message)) == (400, code, message)
    assert state() == before


def test_staff_outside_the_area_cannot_record_a_call(cast, case, station_staff_a2):
    before = state()

    for outsider in (cast.staff_b, station_staff_a2, cast.resident):
        with pytest.raises(NotFound):
            follow_up_record_call(case=case, actor=outsider, reached=True, notes="", outcome="resolved", close=True)

    assert state() == before


@pytest.mark.postgres
def test_two_staff_closing_the_same_case_at_once_close_it_once(require_postgres, transactional_db, cast, org):
    request = serve(cast, org, village=org["village_a1"])
    rate_at(RATED_AT, request, cast.resident, 1, [])
    case = FollowUp.objects.get(request=request)
    barrier = threading.Barrier(2, timeout=30)

    def close(actor: User) -> str:
        try:
            barrier.wait()
            follow_up_record_call(
                case=FollowUp.objects.select_related("request").get(id=case.id),
                actor=actor,
                reached=True,
                notes=actor.name,
                outcome="resolved",
                close=True,
            )
            return "closed"
        except Conflict as exc:
            return exc.code
        finally:
            connection.close()  # this thread's own connection

    for _round in range(3):
        with ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(close, [cast.staff_a, cast.station_staff_a1]))
        assert sorted(results) == ["closed", "follow_up_closed"]
        assert FollowUpCall.objects.filter(case=case).count() == 1
        assert len(notices(Kind.FOLLOW_UP_CLOSED)) == 1
        stored = FollowUp.objects.get(id=case.id)
        assert stored.status == FollowUpStatus.CLOSED
        assert stored.notes == stored.closed_by.name  # type: ignore[union-attr]
        # Open it again for the next round (a fresh case on the same request).
        FollowUpCall.objects.all().delete()
        Notification.objects.filter(kind=Kind.FOLLOW_UP_CLOSED).delete()
        FollowUp.objects.filter(id=case.id).update(
            status=FollowUpStatus.OPEN, closed_at=None, closed_by=None, reached=None, outcome="", notes=""
        )


# --- escalation -------------------------------------------------------------------------------------


def test_an_overdue_case_escalates_once_and_the_centre_dispatcher_is_told_once(cast, case):
    due = case.due_at

    assert follow_ups_escalate_overdue(now=due - timedelta(minutes=1)) == 0
    assert FollowUp.objects.get(id=case.id).escalated_at is None

    assert follow_ups_escalate_overdue(now=due + timedelta(minutes=5)) == 1
    assert follow_ups_escalate_overdue(now=due + timedelta(minutes=10)) == 0
    assert follow_ups_escalate_overdue(now=due + timedelta(days=3)) == 0

    stored = FollowUp.objects.get(id=case.id)
    assert (stored.status, stored.escalated_at) == (FollowUpStatus.OPEN, due + timedelta(minutes=5))
    # Only the centre's own staff take escalations (not its office, nor the sub-centres).
    assert notices(Kind.FOLLOW_UP_ESCALATED) == [(cast.dispatcher.id, case.request_id, f"/s/followups/{case.id}/")]
    notification = Notification.objects.get(kind=Kind.FOLLOW_UP_ESCALATED)
    with translation.override("zh-hans"):
        assert render(notification.kind, notification.params, notification.request_id) == (
            "回访超期上报",
            f"服务#{case.request_id}「{TITLE_A}」的回访（太平庄村新时代文明实践站）"
            "超过2026-03-04 09:00仍未办结，已上报中心。",
        )


def test_the_sweep_task_escalates_with_the_clock(cast, case):
    with mock.patch("django.utils.timezone.now", return_value=case.due_at - timedelta(seconds=1)):
        assert escalate_overdue_follow_ups() == 0
    with mock.patch("django.utils.timezone.now", return_value=case.due_at + timedelta(seconds=1)):
        assert escalate_overdue_follow_ups() == 1

    assert escalate_overdue_follow_ups.name == "ratings.escalate_overdue_follow_ups"
    assert len(notices(Kind.FOLLOW_UP_ESCALATED)) == 1


def test_beat_runs_the_sweep_every_five_minutes(settings):
    assert settings.CELERY_BEAT_SCHEDULE["escalate-overdue-follow-ups"] == {
        "task": "ratings.escalate_overdue_follow_ups",
        "schedule": 300.0,
    }


def test_a_case_closed_in_time_never_escalates(cast, case):
    follow_up_record_call(case=case, actor=cast.staff_a, reached=True, notes="", outcome="resolved", close=True)

    assert follow_ups_escalate_overdue(now=case.due_at + timedelta(days=1)) == 0

    assert FollowUp.objects.get(id=case.id).escalated_at is None
    assert notices(Kind.FOLLOW_UP_ESCALATED) == []


def test_the_sweep_escalates_in_batches_until_none_is_left(cast, org, case, monkeypatch):
    monkeypatch.setattr("apps.ratings.services.ESCALATE_BATCH", 2)
    others = [serve(cast, org, village=org["village_a2"], title=TITLE_B) for _ in range(2)]
    for request in others:
        rate_at(RATED_AT, request, cast.resident, 2, [])

    assert follow_ups_escalate_overdue(now=RATED_AT + timedelta(days=3)) == 3

    assert FollowUp.objects.filter(escalated_at=RATED_AT + timedelta(days=3)).count() == 3
    assert len(notices(Kind.FOLLOW_UP_ESCALATED)) == 3


# --- routine samples --------------------------------------------------------------------------------


def _completed_days_ago(request: ServiceRequest, days: int) -> None:
    RequestEvent.objects.filter(request=request, to_status=Status.COMPLETED).update(
        created_at=timezone.now() - timedelta(days=days)
    )


@dataclass
class SampleWorld:
    unrated: ServiceRequest  # completed yesterday, not rated yet: eligible
    rated_well: ServiceRequest  # completed and rated 5: closed, eligible
    old: ServiceRequest  # completed 40 days ago: too old
    followed_up: ServiceRequest  # rated 1: already has a case
    other_village: ServiceRequest  # 东庄头村, township A
    other_township: ServiceRequest  # 码头村, township B
    queued: ServiceRequest  # not served yet


@pytest.fixture
def sample_world(cast, org) -> SampleWorld:
    world = SampleWorld(
        unrated=serve(cast, org, village=org["village_a1"]),
        rated_well=serve(cast, org, village=org["village_a1"]),
        old=serve(cast, org, village=org["village_a1"]),
        followed_up=serve(cast, org, village=org["village_a1"]),
        other_village=serve(cast, org, village=org["village_a2"]),
        other_township=serve(cast, org, village=org["village_b1"], requester=cast.other_resident),
        queued=submit_request(requester=cast.resident, category=org["category"], village=org["village_a1"]),
    )
    rating_submit(request=world.rated_well, actor=cast.resident, score=5, tags=[])
    rating_submit(request=world.followed_up, actor=cast.resident, score=1, tags=[])
    _completed_days_ago(world.old, 40)
    _completed_days_ago(world.unrated, 1)
    return world


def _sampled(cases: list[FollowUp]) -> set[int]:
    return {case.request_id for case in cases}


def test_a_sample_picks_recently_completed_requests_of_the_area_without_a_case(cast, sample_world):
    before = Notification.objects.count()

    cases = follow_ups_sample(actor=cast.station_staff_a1, count=20)

    assert _sampled(cases) == {sample_world.unrated.id, sample_world.rated_well.id}
    assert sorted(FollowUp.objects.filter(reason=FollowUpReason.ROUTINE).values_list("request_id", "status")) == sorted(
        [(sample_world.unrated.id, FollowUpStatus.OPEN), (sample_world.rated_well.id, FollowUpStatus.OPEN)]
    )
    assert {case.station_id for case in cases} == {sample_world.unrated.station_id}
    assert Notification.objects.count() == before  # the staff member asked for them: nobody is told
    # Every request sampled now has a case: a second sample finds none.
    assert follow_ups_sample(actor=cast.station_staff_a1, count=20) == []


def test_the_candidates_of_a_sample_are_recent_completions_of_the_area_without_a_case(cast, sample_world):
    since = timezone.now() - timedelta(days=30)

    assert set(
        requests_for_routine_follow_up(user=cast.station_staff_a1, since=since).values_list("id", flat=True)
    ) == {
        sample_world.unrated.id,
        sample_world.rated_well.id,
    }
    assert set(requests_for_routine_follow_up(user=cast.staff_b, since=since).values_list("id", flat=True)) == {
        sample_world.other_township.id
    }


def test_a_request_that_got_a_case_after_it_was_picked_is_skipped(cast, sample_world, monkeypatch):
    """The pick is read before the requests are locked: a rating that opened a case in between
    (here: a stale pick of every request) must not get a second case."""
    every_request = ServiceRequest.objects.filter(status__in=[Status.COMPLETED, Status.CLOSED])
    monkeypatch.setattr("apps.ratings.services.requests_for_routine_follow_up", lambda **kwargs: every_request)

    cases = follow_ups_sample(actor=cast.dispatcher, count=20)

    assert sample_world.followed_up.id not in _sampled(cases)
    assert FollowUp.objects.filter(request=sample_world.followed_up).count() == 1


def test_a_sample_takes_at_most_count_at_random(cast, sample_world):
    [case] = follow_ups_sample(actor=cast.station_staff_a1, count=1)

    assert case.request_id in {sample_world.unrated.id, sample_world.rated_well.id}
    assert FollowUp.objects.filter(reason=FollowUpReason.ROUTINE).count() == 1


def test_a_township_office_samples_its_whole_township_and_the_centre_the_city(cast, sample_world):
    assert _sampled(follow_ups_sample(actor=cast.staff_a, count=20)) == {
        sample_world.unrated.id,
        sample_world.rated_well.id,
        sample_world.other_village.id,
    }
    assert _sampled(follow_ups_sample(actor=cast.dispatcher, count=20)) == {sample_world.other_township.id}


def test_a_sample_looks_back_the_given_days(cast, sample_world):
    assert _sampled(follow_ups_sample(actor=cast.station_staff_a1, count=20, days=45)) == {
        sample_world.unrated.id,
        sample_world.rated_well.id,
        sample_world.old.id,
    }


def test_a_sample_outside_any_area_opens_nothing(cast, sample_world):
    assert follow_ups_sample(actor=cast.resident, count=5) == []
    assert FollowUp.objects.filter(reason=FollowUpReason.ROUTINE).count() == 0


@pytest.mark.parametrize("count", [0, 21, -1, True, "3", 2.0])
def test_a_sample_of_a_bad_count_is_refused(cast, sample_world, count):
    before = state()

    with pytest.raises(DomainError) as excinfo:
        follow_ups_sample(actor=cast.staff_a, count=count)

    assert (excinfo.value.code, str(excinfo.value.message)) == ("invalid_count", "抽样数量须为1到20之间的整数。")
    assert state() == before


# --- the API ----------------------------------------------------------------------------------------


@dataclass
class World:
    cast: Cast
    people: dict[str, User | None]
    case_a: FollowUp  # 太平庄村 (township A): a 1-star rating
    case_b: FollowUp  # 码头村 (township B): a 4-star rating tagged late
    spare: ServiceRequest  # 太平庄村: rated 5, no case: what a sample of township A picks


def build_world(cast: Cast, org: dict) -> World:
    request_a = serve(cast, org, village=org["village_a1"], title=TITLE_A)
    request_b = serve(cast, org, village=org["village_b1"], requester=cast.other_resident, title=TITLE_B)
    spare = serve(cast, org, village=org["village_a1"], title=TITLE_C)
    rate_at(RATED_AT, request_a, cast.resident, 1, [])
    rate_at(RATED_AT, request_b, cast.other_resident, 4, [Tag.LATE])
    rating_submit(request=spare, actor=cast.resident, score=5, tags=[])
    people: dict[str, User | None] = {
        "anonymous": None,
        "resident": cast.resident,
        "volunteer": cast.volunteer.user,
        "station_staff_a1": cast.station_staff_a1,
        "station_staff_a2": make_user(name="冯站长", staff_node=org["station_a2"]),
        "staff_a": cast.staff_a,
        "staff_b": cast.staff_b,
        "sub_centre_staff": cast.sub_centre_staff,
        "centre_office_staff": cast.centre_office_staff,
        "dispatcher": cast.dispatcher,
        "admin": cast.admin,
    }
    return World(
        cast=cast,
        people=people,
        case_a=FollowUp.objects.get(request=request_a),
        case_b=FollowUp.objects.get(request=request_b),
        spare=spare,
    )


ACTORS = [
    "anonymous",
    "resident",
    "volunteer",
    "station_staff_a1",
    "station_staff_a2",
    "staff_a",
    "staff_b",
    "sub_centre_staff",
    "centre_office_staff",
    "dispatcher",
    "admin",
]
# Who is refused every 回访 endpoint and page, and how.
REFUSED = {"anonymous": 401, "resident": 403, "volunteer": 403}
# Which cases each member of staff sees: those of the requests in their area.
SEES: dict[str, set[str]] = {
    "station_staff_a1": {"a"},
    "station_staff_a2": set(),
    "staff_a": {"a"},
    "staff_b": {"b"},
    "sub_centre_staff": {"a", "b"},  # both ask for its field, "convenience"
    "centre_office_staff": {"a", "b"},
    "dispatcher": {"a", "b"},
    "admin": {"a", "b"},
}
NOT_AUTHENTICATED = {"detail": "身份认证信息未提供。", "code": "not_authenticated"}
PERMISSION_DENIED = {"detail": "您没有执行该操作的权限。", "code": "permission_denied"}
NOT_FOUND = {"detail": "未找到，或您无权查看。", "code": "not_found"}
REFUSAL_BODY = {401: NOT_AUTHENTICATED, 403: PERMISSION_DENIED, 404: NOT_FOUND}
# The resident in clear: never in any answer (the API shows 王*兰 and no phone at all).
CLEAR = ("王秀兰", "周建国", CONTACT_PHONE)


@pytest.fixture
def world(cast, org) -> World:
    return build_world(cast, org)


def case_of(world: World, key: str) -> FollowUp:
    return world.case_a if key == "a" else world.case_b


def assert_nothing_clear(content: str) -> None:
    for secret in CLEAR:
        assert secret not in content, secret


def assert_refused(response: Any, status: int) -> None:
    assert (response.status_code, response.json()) == (status, REFUSAL_BODY[status])
    assert TITLE_A not in response.content.decode() and TITLE_B not in response.content.decode()


@pytest.mark.parametrize("actor", ACTORS)
def test_the_list_shows_each_caller_the_cases_of_their_area(world, api, actor):
    response = api(world.people[actor]).get("/api/v1/follow-ups/")

    if actor in REFUSED:
        assert_refused(response, REFUSED[actor])
        return
    assert response.status_code == 200
    body = response.json()
    expected = {case_of(world, key).id for key in SEES[actor]}
    assert {row["id"] for row in body["results"]} == expected
    assert body["count"] == len(expected)
    assert_nothing_clear(response.content.decode())


def test_a_case_in_the_list_reads_as_documented(world, api):
    with mock.patch("django.utils.timezone.now", return_value=RATED_AT + timedelta(hours=1)):
        [row] = api(world.cast.staff_a).get("/api/v1/follow-ups/").json()["results"]

    case = world.case_a
    assert row == {
        "id": case.id,
        "request": {"id": case.request_id, "title": TITLE_A},
        "station": {"id": case.station_id, "name": "太平庄村新时代文明实践站", "kind": "village_station"},
        "reason": "low_rating",
        "reason_display": "评分较低",
        "status": "open",
        "status_display": "待回访",
        "opened_at": "2026-03-02T09:00:00+08:00",
        "due_at": "2026-03-04T09:00:00+08:00",
        "overdue": False,
        "escalated_at": None,
        "closed_at": None,
        "closed_by": None,
        "reached": None,
        "outcome": "",
        "outcome_display": "",
        "notes": "",
        "resident": "王*兰",
        "score": 1,
    }


@pytest.mark.parametrize("more", [False, True])
def test_the_list_reads_in_three_queries_however_many_cases(world, api, django_assert_num_queries, more):
    if more:
        follow_ups_sample(actor=world.cast.dispatcher, count=1)
    # Re-read, as authentication does on a real request: the node is not cached on the object.
    client = api(User.objects.get(id=world.cast.dispatcher.id))

    with django_assert_num_queries(3):
        # 1. the user's node (area_of: the centre covers the whole city)
        # 2. COUNT(*) of the cases, for the page's "count"
        # 3. the page: cases joined to their request, its rating and resident, and the station
        response = client.get("/api/v1/follow-ups/")

    assert len(response.json()["results"]) == (3 if more else 2)


@pytest.mark.parametrize(
    ("query", "keys"),
    [
        ("status=open", {"a", "b"}),
        ("status=closed", set()),
        ("overdue=true", {"a"}),
        ("overdue=false", {"b"}),
        ("status=open&overdue=true", {"a"}),
    ],
)
def test_the_list_filters_by_status_and_overdue(world, api, query, keys):
    FollowUp.objects.filter(id=world.case_a.id).update(due_at=timezone.now() - timedelta(minutes=1))
    FollowUp.objects.filter(id=world.case_b.id).update(due_at=timezone.now() + timedelta(hours=1))

    response = api(world.cast.dispatcher).get(f"/api/v1/follow-ups/?{query}")

    assert response.status_code == 200
    assert {row["id"] for row in response.json()["results"]} == {case_of(world, key).id for key in keys}


@pytest.mark.parametrize("query", ["status=bogus", "overdue=abc", "overdue=1"])
def test_a_bad_filter_is_a_400(world, api, query):
    response = api(world.cast.dispatcher).get(f"/api/v1/follow-ups/?{query}")

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("key", ["a", "b"])
def test_a_case_is_shown_to_the_staff_of_its_area_only(world, api, actor, key):
    case = case_of(world, key)

    response = api(world.people[actor]).get(f"/api/v1/follow-ups/{case.id}/")

    if actor in REFUSED:
        assert_refused(response, REFUSED[actor])
        return
    if key not in SEES[actor]:
        assert_refused(response, 404)
        return
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["request"]["id"], body["calls"]) == (case.id, case.request_id, [])
    assert body["rating"]["score"] == (1 if key == "a" else 4)
    assert body["resident"] == ("王*兰" if key == "a" else "周*国")
    assert_nothing_clear(response.content.decode())


def _call(world: World, actor: str, case: FollowUp, body: dict, fmt: str = "json", api: Any = None) -> Any:
    return api(world.people[actor]).post(f"/api/v1/follow-ups/{case.id}/calls/", body, format=fmt)


@pytest.mark.parametrize("actor", ACTORS)
def test_recording_a_call_is_for_the_staff_of_the_area(world, api, actor):
    before = state()

    response = _call(world, actor, world.case_a, {"reached": False, "notes": "无人接听"}, api=api)

    if actor in REFUSED or "a" not in SEES[actor]:
        assert_refused(response, REFUSED.get(actor, 404))
        assert state() == before
        return
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "open"
    assert [(c["reached"], c["notes"]) for c in body["calls"]] == [(False, "无人接听")]
    caller = world.people[actor]
    assert caller is not None
    assert body["calls"][0]["called_by"] == caller.masked_name
    assert list(FollowUpCall.objects.values_list("case_id", "called_by_id")) == [(world.case_a.id, caller.id)]


def test_closing_through_the_api_tells_the_resident(world, api):
    response = _call(
        world,
        "station_staff_a1",
        world.case_a,
        {"reached": True, "notes": "已安排志愿者再次上门", "outcome": "redo", "close": True},
        api=api,
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["outcome"], body["outcome_display"], body["reached"], body["closed_by"]) == (
        "closed",
        "redo",
        "已安排重新服务",
        True,
        "孙*长",
    )
    assert notices(Kind.FOLLOW_UP_CLOSED) == [
        (world.cast.resident.id, world.case_a.request_id, f"/r/requests/{world.case_a.request_id}/")
    ]


def test_a_call_on_a_closed_case_is_a_409(world, api):
    _call(world, "staff_a", world.case_a, {"reached": True, "outcome": "resolved", "close": True}, api=api)
    before = state()

    response = _call(world, "staff_a", world.case_a, {"reached": True, "notes": "再问一次"}, api=api)

    assert (response.status_code, response.json()) == (
        409,
        {"detail": "该回访工单已办结，不能再记录回访。", "code": "follow_up_closed"},
    )
    assert state() == before


@pytest.mark.parametrize(
    ("body", "fmt", "field", "code"),
    [
        ({"notes": "无人接听"}, "json", "reached", "invalid"),
        ({"notes": "无人接听"}, "multipart", "reached", "invalid"),
        ({"reached": None}, "json", "reached", "invalid"),
        ({"reached": "maybe"}, "json", "reached", "invalid"),
        ({"reached": True, "outcome": "bogus", "close": True}, "json", "outcome", "invalid"),
        ({"reached": True, "notes": "好" * 501}, "json", "notes", "invalid"),
        ({"reached": True, "notes": ["a"]}, "json", "notes", "invalid"),
        ({"reached": True, "close": True}, "json", None, "outcome_required"),
        ({"reached": True, "outcome": "", "close": True}, "json", None, "outcome_required"),
        ({"reached": True, "outcome": "resolved"}, "json", None, "outcome_without_close"),
        ({"reached": True, "close": "yes please"}, "json", "close", "invalid"),
    ],
    ids=[
        "reached-missing",
        "reached-missing-in-a-form",
        "reached-null",
        "reached-not-a-boolean",
        "unknown-outcome",
        "notes-too-long",
        "notes-a-list",
        "close-without-outcome",
        "close-with-an-empty-outcome",
        "outcome-without-close",
        "close-not-a-boolean",
    ],
)
def test_a_call_with_bad_input_is_a_400_that_changes_nothing(world, api, body, fmt, field, code):
    before = state()

    response = _call(world, "staff_a", world.case_a, body, fmt=fmt, api=api)

    assert response.status_code == 400
    answer = response.json()
    assert answer["code"] == code
    if field is not None:
        assert answer["detail"] == "提交的内容有误，请检查后重试。"
        assert list(answer["errors"]) == [field]
    assert state() == before


SAMPLED: dict[str, set[str]] = {
    "station_staff_a1": {"spare"},
    "station_staff_a2": set(),
    "staff_a": {"spare"},
    "staff_b": set(),
    "sub_centre_staff": {"spare"},
    "centre_office_staff": {"spare"},
    "dispatcher": {"spare"},
    "admin": {"spare"},
}


@pytest.mark.parametrize("actor", ACTORS)
def test_a_sample_is_for_staff_and_picks_from_their_area(world, api, actor):
    before = state()

    response = api(world.people[actor]).post("/api/v1/follow-ups/sample/", {"count": 5}, format="json")

    if actor in REFUSED:
        assert_refused(response, REFUSED[actor])
        assert state() == before
        return
    assert response.status_code == 201
    expected = {world.spare.id} if SAMPLED[actor] else set()
    assert {row["request"]["id"] for row in response.json()} == expected
    assert set(FollowUp.objects.filter(reason=FollowUpReason.ROUTINE).values_list("request_id", flat=True)) == expected
    if expected:
        [row] = response.json()
        assert (row["reason"], row["status"], row["score"], row["resident"]) == ("routine", "open", 5, "王*兰")
    assert_nothing_clear(response.content.decode())


@pytest.mark.parametrize(
    "body",
    [{"count": 0}, {"count": 21}, {"count": "abc"}, {"count": None}, {}, {"count": 2.5}, {"count": [3]}],
    ids=["0", "21", "abc", "null", "missing", "fraction", "list"],
)
def test_a_sample_with_a_bad_count_is_a_400_that_changes_nothing(world, api, body):
    before = state()

    response = api(world.cast.staff_a).post("/api/v1/follow-ups/sample/", body, format="json")

    assert response.status_code == 400
    assert (response.json()["code"], list(response.json()["errors"])) == ("invalid", ["count"])
    assert state() == before
