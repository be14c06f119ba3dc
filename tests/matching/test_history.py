"""The history the ranking scores from: one row per volunteer, recounted from their offers when
one of them moves or the request is rated (a ``matching.history`` job written with the change),
and for everyone by beat as the windows slide."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.dispatch.models import Offer
from apps.dispatch.services import dispatch_directed, offer_accept, offer_check_in, offer_complete, offer_decline
from apps.jobs.models import Job, JobState
from apps.jobs.runtime import jobs_run
from apps.matching.history import history_priors, history_refresh, history_refresh_request
from apps.matching.models import VolunteerHistory
from apps.ratings.services import rating_submit
from apps.service_requests.services import HISTORY_TASK, request_review
from tests.service_requests.factories import submit_request


def _queued(cast, org):
    request = submit_request(requester=cast.resident, category=org["category"], village=org["village_a1"])
    request_review(request=request, actor=cast.staff_a, accept=True)
    return request


def _history_jobs(request) -> list[Job]:
    return list(Job.objects.filter(task=HISTORY_TASK, subject_id=request.id))


def _run(job: Job) -> None:
    assert jobs_run(job.id, worker="test:1", hard_limit=20) >= 1


def test_a_decline_asks_for_a_recount_and_the_job_counts_it(cast, org):
    request = _queued(cast, org)
    offer = dispatch_directed(request=request, actor=cast.staff_a, volunteers=[cast.volunteer])[0]
    assert _history_jobs(request) == []  # an offer sent says nothing about anyone yet

    offer_decline(offer=offer, volunteer=cast.volunteer, reason="不在家")

    [job] = _history_jobs(request)
    assert job.state == JobState.PENDING
    assert not VolunteerHistory.objects.filter(volunteer=cast.volunteer).exists()
    _run(job)
    row = VolunteerHistory.objects.get(volunteer=cast.volunteer)
    assert (row.kept, row.taken, row.released, row.answered, row.responses) == (0, 0, 0, 1, 1)
    # (0 − 0 + 5 × 0.8) / (1 + 5)
    assert row.reliability == pytest.approx(4 / 6)
    assert Job.objects.get(id=job.id).state == JobState.DONE


def test_a_rating_asks_for_a_recount_of_who_served(cast, org):
    request = _queued(cast, org)
    offer = dispatch_directed(request=request, actor=cast.staff_a, volunteers=[cast.volunteer])[0]
    offer_accept(offer=offer, volunteer=cast.volunteer)
    offer_check_in(offer=offer, volunteer=cast.volunteer)
    Offer.objects.filter(id=offer.id).update(checked_in_at=timezone.now() - timedelta(hours=2))
    offer_complete(offer=offer, volunteer=cast.volunteer)
    history_refresh_request(request_id=request.id)
    Job.objects.filter(task=HISTORY_TASK).update(state=JobState.DONE)
    before = VolunteerHistory.objects.get(volunteer=cast.volunteer)
    assert (before.kept, before.tasks, before.month_hours, before.ratings) == (1, 1, 2.0, 0)

    rating_submit(request=request, actor=cast.resident, score=2, tags=[])

    [job] = Job.objects.filter(task=HISTORY_TASK, subject_id=request.id, state=JobState.PENDING)
    _run(job)
    row = VolunteerHistory.objects.get(volunteer=cast.volunteer)
    assert (row.ratings, row.rating_sum, row.good) == (1, 2, 0)
    # ((2 + 5 × 4.0) / (1 + 5) − 1) / 4
    assert row.rating == pytest.approx((22 / 6 - 1) / 4)
    # One 2-hour task this month: 1 / (1 + 1/4 + 2/8).
    assert row.fairness == pytest.approx(1 / 1.5)


def test_the_windows_slide_when_everyone_is_recounted(cast, org):
    request = _queued(cast, org)
    offer = dispatch_directed(request=request, actor=cast.staff_a, volunteers=[cast.volunteer])[0]
    offer_accept(offer=offer, volunteer=cast.volunteer)
    now = timezone.now()
    assert history_refresh(now=now) == 1
    row = VolunteerHistory.objects.get(volunteer=cast.volunteer)
    assert (row.kept, row.tasks) == (1, 1)

    # 31 days on, the task has left the month; 91 days on, the history too.
    history_refresh(now=now + timedelta(days=31))
    row.refresh_from_db()
    assert (row.kept, row.tasks, row.fairness) == (1, 0, 1.0)
    history_refresh(now=now + timedelta(days=91))
    row.refresh_from_db()
    assert (row.kept, row.answered, row.responses) == (0, 0, 0)
    assert row.refreshed_at == now + timedelta(days=91)


def test_a_volunteer_without_offers_gets_the_priors(cast):
    assert history_refresh(volunteer_ids=[cast.other_volunteer.id]) == 1
    row = VolunteerHistory.objects.get(volunteer=cast.other_volunteer)
    assert {name: getattr(row, name) for name in history_priors()} == history_priors()
    assert history_refresh(volunteer_ids=[]) == 0
