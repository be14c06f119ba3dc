"""Safe retries of the API's actions: the same action by the same person, once its effect holds,
answers the same success with the same body and changes nothing; someone else, or a state the
action cannot reach any more, is a 409 whose code says why."""

from typing import Any

import pytest

from apps.dispatch.models import Offer, OfferEvent, OfferStatus
from apps.notifications.models import Notification
from apps.service_requests.models import RequestEvent, ServiceRequest, Status
from tests.workflow.scenario import World, advance, build_world, db_state


@pytest.fixture
def world(cast, org) -> World:
    return build_world(cast, org)


def _offer_url(offer: Offer | None, action: str) -> str:
    assert offer is not None
    return f"/api/v1/offers/{offer.id}/{action}/"


def _counts() -> tuple[int, int, int]:
    return OfferEvent.objects.count(), RequestEvent.objects.count(), Notification.objects.count()


def test_repeating_an_accept_answers_the_first_success_and_the_loser_still_gets_offer_taken(world, api) -> None:
    advance(world, "offered")
    client = api(world.cast.volunteer)

    first = client.post(_offer_url(world.offer, "accept"))
    assert first.status_code == 200, first.content
    after_first = db_state()
    counts = _counts()
    assert OfferEvent.objects.filter(offer=world.offer, to_status=OfferStatus.ACCEPTED).count() == 1

    again = client.post(_offer_url(world.offer, "accept"))

    assert again.status_code == 200, again.content
    assert again.content == first.content
    assert _counts() == counts
    assert db_state() == after_first
    assert OfferEvent.objects.filter(offer=world.offer, to_status=OfferStatus.ACCEPTED).count() == 1
    assert ServiceRequest.objects.get(id=world.request.id).volunteers_accepted == 1

    loser = api(world.cast.other_volunteer).post(_offer_url(world.other_offer, "accept"))
    assert loser.status_code == 409
    assert loser.json() == {"detail": "手慢了，这个需求已经有志愿者接单了。", "code": "offer_taken"}
    assert db_state() == after_first


@pytest.mark.parametrize(
    ("stage", "action", "body"),
    [
        pytest.param("offered", "accept", None, id="accept"),
        pytest.param("accepted", "arrive", None, id="arrive"),
        pytest.param("in_service", "complete", {"report": "已更换阀芯"}, id="complete"),
        pytest.param("accepted", "release", {"reason": "临时有事"}, id="release"),
        pytest.param("offered", "decline", {"reason": "不在家"}, id="decline"),
    ],
)
def test_repeating_a_volunteer_action_answers_the_same_body_and_changes_nothing(
    world, api, stage: str, action: str, body: dict[str, Any] | None
) -> None:
    advance(world, stage)
    client = api(world.cast.volunteer)
    first = client.post(_offer_url(world.offer, action), body, format="json")
    assert first.status_code == 200, first.content
    before = db_state()

    again = client.post(_offer_url(world.offer, action), body, format="json")

    assert again.status_code == 200, again.content
    assert again.json() == first.json()
    assert db_state() == before


def test_accepting_again_after_completion_answers_the_offer_as_it_is(world, api) -> None:
    advance(world, "completed")
    before = db_state()
    response = api(world.cast.volunteer).post(_offer_url(world.offer, "accept"))
    assert response.status_code == 200
    assert response.json()["status"] == OfferStatus.COMPLETED
    assert db_state() == before


def test_repeating_a_rating_answers_200_with_the_stored_rating(world, api) -> None:
    advance(world, "completed")
    client = api(world.cast.resident)
    body = {"score": 4, "tags": ["friendly", "on_time"], "comment": "谢谢"}
    url = f"/api/v1/requests/{world.request.id}/rate/"

    first = client.post(url, body, format="json")
    assert first.status_code == 201, first.content
    before = db_state()

    again = client.post(url, body, format="json")
    assert again.status_code == 200, again.content
    assert again.json() == first.json()
    assert db_state() == before

    other_score = client.post(url, {**body, "score": 5}, format="json")
    assert (other_score.status_code, other_score.json()["code"]) == (409, "already_rated")
    by_staff = api(world.cast.staff_a).post(url, body, format="json")
    assert (by_staff.status_code, by_staff.json()["code"]) == (409, "already_rated")
    assert db_state() == before


@pytest.mark.parametrize(
    ("stage", "action", "body"),
    [
        pytest.param("accepted", "arrive", None, id="arrive"),
        pytest.param("accepted", "complete", {}, id="complete"),
        pytest.param("accepted", "accept", None, id="accept"),
    ],
)
def test_after_a_cancellation_the_volunteer_is_told_it_was_cancelled(world, api, stage, action, body) -> None:
    advance(world, stage)
    assert (
        api(world.cast.resident).post(f"/api/v1/requests/{world.request.id}/cancel/", {}, format="json").status_code
        == 200
    )
    before = db_state()
    response = api(world.cast.volunteer).post(_offer_url(world.offer, action), body, format="json")
    assert response.status_code == 409
    assert response.json() == {"detail": "该需求已取消。", "code": "request_cancelled"}
    assert db_state() == before


def test_a_declined_offer_cannot_be_accepted_and_says_so(world, api) -> None:
    advance(world, "offered")
    client = api(world.cast.volunteer)
    assert client.post(_offer_url(world.offer, "decline"), {}, format="json").status_code == 200
    response = client.post(_offer_url(world.offer, "accept"))
    assert (response.status_code, response.json()["code"]) == (409, "offer_declined")


def test_the_rated_status_is_not_a_filter_choice_because_no_request_rests_there(world, api) -> None:
    advance(world, "closed")
    client = api(world.cast.resident)
    response = client.get("/api/v1/requests/", {"status": Status.RATED})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    closed = client.get("/api/v1/requests/", {"status": Status.CLOSED})
    assert [r["id"] for r in closed.json()["results"]] == [world.request.id]


def test_the_schema_documents_the_filterable_statuses_without_rated(api, cast) -> None:
    schema = api(cast.resident).get("/api/schema/", {"format": "json"})
    assert schema.status_code == 200
    parameters = schema.json()["paths"]["/api/v1/requests/"]["get"]["parameters"]
    status_parameter = next(p for p in parameters if p["name"] == "status")
    assert "rated" not in status_parameter["schema"]["items"]["enum"]
    assert "closed" in status_parameter["schema"]["items"]["enum"]
