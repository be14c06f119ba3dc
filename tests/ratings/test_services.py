"""评单: 1–5 with known tags, once per request, by the resident or by staff on their behalf."""

import pytest

from apps.core.errors import Conflict, DomainError
from apps.ratings.models import Rating, Tag
from apps.ratings.services import rating_submit
from apps.service_requests.models import ServiceRequest, Status
from tests.ratings.factories import serve
from tests.service_requests.factories import event_rows, submit_request


@pytest.fixture
def completed(cast, org) -> ServiceRequest:
    """A request served by the cast's volunteer, through the real services."""
    return serve(cast, org, village=org["village_a1"], staff=cast.staff_a)


def _status(request: ServiceRequest) -> str:
    return ServiceRequest.objects.get(id=request.id).status


@pytest.mark.parametrize("score", [0, 6, -1])
def test_score_outside_one_to_five_is_refused(cast, completed, score):
    with pytest.raises(DomainError) as excinfo:
        rating_submit(request=completed, actor=cast.resident, score=score, tags=[])

    assert excinfo.value.code == "invalid_score"
    assert Rating.objects.count() == 0
    assert _status(completed) == Status.COMPLETED


@pytest.mark.parametrize("score", [1, 5])
def test_scores_one_and_five_are_accepted(cast, completed, score):
    rating = rating_submit(request=completed, actor=cast.resident, score=score, tags=[])

    assert Rating.objects.get(request=completed).score == score
    assert rating.score == score


def test_unknown_tag_is_refused_and_named(cast, completed):
    with pytest.raises(DomainError) as excinfo:
        rating_submit(request=completed, actor=cast.resident, score=4, tags=["friendly", "rude", "lazy"])

    assert excinfo.value.code == "invalid_tag"
    assert str(excinfo.value.message) == "未知的评价标签：rude、lazy"
    assert Rating.objects.count() == 0
    assert _status(completed) == Status.COMPLETED


def test_rating_stores_score_tags_once_each_and_comment(cast, completed):
    rating = rating_submit(
        request=completed,
        actor=cast.resident,
        score=4,
        tags=[Tag.FRIENDLY, Tag.ON_TIME, Tag.FRIENDLY],
        comment="小伙子很热心",
    )

    stored = Rating.objects.get(id=rating.id)
    assert (stored.request_id, stored.score, stored.tags, stored.comment) == (
        completed.id,
        4,
        ["friendly", "on_time"],
        "小伙子很热心",
    )
    assert stored.rated_by == cast.resident


def test_a_request_is_rated_only_once(cast, completed):
    rating_submit(request=completed, actor=cast.resident, score=5, tags=[])

    with pytest.raises(Conflict) as excinfo:
        rating_submit(request=completed, actor=cast.resident, score=1, tags=["late"])
    assert excinfo.value.code == "already_rated"
    with pytest.raises(Conflict) as excinfo:
        rating_submit(request=completed, actor=cast.staff_a, score=2, tags=[])
    assert excinfo.value.code == "already_rated"

    assert list(Rating.objects.values_list("request_id", "score")) == [(completed.id, 5)]


@pytest.mark.parametrize(
    "status", [Status.SUBMITTED, Status.QUEUED, Status.ACCEPTED, Status.IN_SERVICE, Status.CANCELLED]
)
def test_rating_before_completion_is_a_conflict(cast, org, status):
    request = submit_request(requester=cast.resident, category=org["category"], village=org["village_a1"])
    ServiceRequest.objects.filter(id=request.id).update(status=status)

    with pytest.raises(Conflict) as excinfo:
        rating_submit(request=request, actor=cast.resident, score=5, tags=[])

    assert excinfo.value.code == "not_completed"
    assert Rating.objects.count() == 0
    assert _status(request) == status


def test_an_unrated_request_closed_automatically_can_no_longer_be_rated(cast, completed):
    ServiceRequest.objects.filter(id=completed.id).update(status=Status.CLOSED)

    with pytest.raises(Conflict) as excinfo:
        rating_submit(request=completed, actor=cast.resident, score=5, tags=[])

    assert excinfo.value.code == "not_completed"
    assert Rating.objects.count() == 0


def test_rating_by_the_requester_is_not_on_behalf(cast, completed):
    rating = rating_submit(request=completed, actor=cast.resident, score=5, tags=[])

    assert Rating.objects.get(id=rating.id).on_behalf is False


@pytest.mark.parametrize("rater", ["staff_a", "station_staff_a1", "dispatcher"])
def test_rating_by_staff_after_a_follow_up_call_is_on_behalf(cast, completed, rater):
    staff = getattr(cast, rater)

    rating = rating_submit(request=completed, actor=staff, score=3, tags=[Tag.PATIENT], comment="回访：老人表示满意")

    stored = Rating.objects.get(id=rating.id)
    assert (stored.on_behalf, stored.rated_by) == (True, staff)


def test_rating_moves_the_request_completed_then_rated_then_closed(cast, completed):
    rating_submit(request=completed, actor=cast.resident, score=5, tags=[])

    assert _status(completed) == Status.CLOSED
    events = event_rows(completed)
    assert events[-2:] == [
        (Status.COMPLETED, Status.RATED, cast.resident.id, ""),
        (Status.RATED, Status.CLOSED, cast.resident.id, "已评价，工单办结"),
    ]
    assert [to for _from, to, _actor, _reason in events] == [
        Status.SUBMITTED,
        Status.QUEUED,
        Status.OFFERED,
        Status.ACCEPTED,
        Status.IN_SERVICE,
        Status.COMPLETED,
        Status.RATED,
        Status.CLOSED,
    ]
