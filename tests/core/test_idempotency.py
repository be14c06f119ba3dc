"""The ``Idempotency-Key`` header on the POSTs that create something: a repeat with the same key
by the same user answers the stored response and creates nothing; a reused key with another body
is 422; keys are per user, validated, forgotten after 24 hours, and two requests with the same
key at the same instant create one thing."""

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.models import User
from apps.core.idempotency import KEEP_FOR, idempotency_keys_purge
from apps.core.models import IdempotencyKey
from apps.dispatch.models import Offer
from apps.ratings.models import Rating
from apps.service_requests.models import ServiceRequest
from tests.service_requests.factories import request_payload
from tests.workflow.scenario import World, advance, build_world, db_state

HEADER = "Idempotency-Key"


@pytest.fixture
def world(cast, org) -> World:
    return build_world(cast, org)


@dataclass
class Creation:
    """One creating POST: who sends it, where, with what body, and what it creates."""

    stage: str
    actor: Callable[[World], User]
    url: Callable[[World], str]
    body: Callable[[World], dict[str, Any]]
    created: Callable[[], int]


CREATIONS = {
    "submit": Creation(
        "submitted",
        lambda w: w.cast.resident,
        lambda w: "/api/v1/requests/",
        lambda w: request_payload(category=w.org["category"], village=w.org["village_a1"]),
        lambda: ServiceRequest.objects.count(),
    ),
    "on_behalf": Creation(
        "submitted",
        lambda w: w.cast.staff_a,
        lambda w: "/api/v1/requests/on-behalf/",
        lambda w: request_payload(
            category=w.org["category"],
            village=w.org["village_a1"],
            requester_phone="13711112222",
            requester_name="吴大爷",
            channel="phone",
        ),
        lambda: ServiceRequest.objects.count(),
    ),
    "dispatch": Creation(
        "queued",
        lambda w: w.cast.staff_a,
        lambda w: f"/api/v1/requests/{w.request.id}/dispatch/",
        lambda w: {"volunteer_ids": [w.cast.volunteer.id]},
        lambda: Offer.objects.count(),
    ),
    "rate": Creation(
        "completed",
        lambda w: w.cast.resident,
        lambda w: f"/api/v1/requests/{w.request.id}/rate/",
        lambda w: {"score": 5, "tags": ["friendly"], "comment": "谢谢"},
        lambda: Rating.objects.count(),
    ),
}


def _client(user: User) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.mark.parametrize("name", list(CREATIONS))
def test_a_repeat_with_the_same_key_answers_the_stored_response_and_creates_nothing(world, name) -> None:
    creation = CREATIONS[name]
    advance(world, creation.stage)
    client = _client(creation.actor(world))
    url, body = creation.url(world), creation.body(world)
    count = creation.created()

    first = client.post(url, body, format="json", headers={HEADER: "retry-1"})
    assert first.status_code == 201, first.content
    assert creation.created() == count + 1
    after_first = db_state()

    again = client.post(url, body, format="json", headers={HEADER: "retry-1"})

    assert again.status_code == 201
    assert again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    assert creation.created() == count + 1
    assert db_state() == after_first
    assert IdempotencyKey.objects.filter(key="retry-1").count() == 1


@pytest.mark.parametrize("name", list(CREATIONS))
def test_the_same_key_with_another_body_is_refused_with_422(world, name) -> None:
    creation = CREATIONS[name]
    advance(world, creation.stage)
    client = _client(creation.actor(world))
    url, body = creation.url(world), creation.body(world)
    assert client.post(url, body, format="json", headers={HEADER: "k"}).status_code == 201
    before = db_state()
    changed = {**body, "comment": "另一条"} if name == "rate" else {**body, "extra": 1}

    response = client.post(url, changed, format="json", headers={HEADER: "k"})

    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert db_state() == before


def test_the_same_key_on_another_endpoint_is_refused(world) -> None:
    advance(world, "queued")
    client = _client(world.cast.staff_a)
    body = request_payload(category=world.org["category"], village=world.org["village_a1"])
    assert client.post("/api/v1/requests/", body, format="json", headers={HEADER: "k"}).status_code == 201
    response = client.post(
        f"/api/v1/requests/{world.request.id}/dispatch/",
        {"volunteer_ids": [world.cast.volunteer.id]},
        format="json",
        headers={HEADER: "k"},
    )
    assert (response.status_code, response.json()["code"]) == (422, "idempotency_key_reused")


def test_keys_belong_to_their_user(world) -> None:
    body = request_payload(category=world.org["category"], village=world.org["village_a1"])
    count = ServiceRequest.objects.count()
    first = _client(world.cast.resident).post("/api/v1/requests/", body, format="json", headers={HEADER: "same"})
    second = _client(world.cast.other_resident).post("/api/v1/requests/", body, format="json", headers={HEADER: "same"})
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["id"] != second.json()["id"]
    assert ServiceRequest.objects.count() == count + 2


def test_without_a_key_a_repeat_creates_again(world) -> None:
    client = _client(world.cast.resident)
    body = request_payload(category=world.org["category"], village=world.org["village_a1"])
    count = ServiceRequest.objects.count()
    assert client.post("/api/v1/requests/", body, format="json").status_code == 201
    assert client.post("/api/v1/requests/", body, format="json").status_code == 201
    assert ServiceRequest.objects.count() == count + 2
    assert not IdempotencyKey.objects.exists()


@pytest.mark.parametrize(
    "key",
    [
        pytest.param("", id="empty"),
        pytest.param("k" * 256, id="256-chars"),
        pytest.param("键", id="not-ascii"),
        pytest.param("a\tb", id="control-char"),
    ],
)
def test_a_malformed_key_is_refused_with_400(world, key: str) -> None:
    client = _client(world.cast.resident)
    body = request_payload(category=world.org["category"], village=world.org["village_a1"])
    before = db_state()
    response = client.post("/api/v1/requests/", body, format="json", headers={HEADER: key})
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_idempotency_key"
    assert response.json()["detail"]
    assert db_state() == before
    assert not IdempotencyKey.objects.exists()


def test_a_key_of_255_printable_characters_is_accepted(world) -> None:
    client = _client(world.cast.resident)
    body = request_payload(category=world.org["category"], village=world.org["village_a1"])
    key = ("a b~!" * 51)[:255]
    assert client.post("/api/v1/requests/", body, format="json", headers={HEADER: key}).status_code == 201
    assert IdempotencyKey.objects.get().key == key


def test_a_refused_request_keeps_no_key_so_the_fixed_body_may_use_it(world) -> None:
    client = _client(world.cast.resident)
    body = request_payload(category=world.org["category"], village=world.org["village_a1"])
    refused = client.post("/api/v1/requests/", {**body, "title": ""}, format="json", headers={HEADER: "k"})
    assert refused.status_code == 400
    assert not IdempotencyKey.objects.exists()
    assert client.post("/api/v1/requests/", body, format="json", headers={HEADER: "k"}).status_code == 201


def test_a_key_older_than_a_day_is_forgotten_and_purged(world) -> None:
    client = _client(world.cast.resident)
    body = request_payload(category=world.org["category"], village=world.org["village_a1"])
    count = ServiceRequest.objects.count()
    first = client.post("/api/v1/requests/", body, format="json", headers={HEADER: "old"})
    IdempotencyKey.objects.update(created_at=timezone.now() - KEEP_FOR - timedelta(minutes=1))

    again = client.post("/api/v1/requests/", body, format="json", headers={HEADER: "old"})

    assert again.status_code == 201
    assert again.json()["id"] != first.json()["id"]
    assert ServiceRequest.objects.count() == count + 2
    assert IdempotencyKey.objects.count() == 1
    assert idempotency_keys_purge() == 0
    assert idempotency_keys_purge(now=timezone.now() + KEEP_FOR + timedelta(minutes=1)) == 1
    assert not IdempotencyKey.objects.exists()


def test_the_schema_documents_the_header_on_every_creating_post(api, cast) -> None:
    paths = api(cast.resident).get("/api/schema/", {"format": "json"}).json()["paths"]
    for path in (
        "/api/v1/requests/",
        "/api/v1/requests/on-behalf/",
        "/api/v1/requests/{id}/dispatch/",
        "/api/v1/requests/{id}/rate/",
    ):
        names = [(p["name"], p["in"]) for p in paths[path]["post"].get("parameters", [])]
        assert ("Idempotency-Key", "header") in names, path
    rate = paths["/api/v1/requests/{id}/rate/"]["post"]["responses"]
    assert {"200", "201"} <= set(rate)


@pytest.mark.postgres
@pytest.mark.parametrize("name", list(CREATIONS))
def test_two_requests_with_the_same_key_at_once_create_one_thing(require_postgres, transactional_db, cast, org, name):
    """Two threads, each with its own database connection, post the same key together."""
    world = build_world(cast, org)
    creation = CREATIONS[name]
    advance(world, creation.stage)
    user, url, body = creation.actor(world), creation.url(world), creation.body(world)
    count = creation.created()
    barrier = threading.Barrier(2, timeout=30)
    results: list[tuple[int, bytes]] = []
    lock = threading.Lock()

    def post() -> None:
        try:
            client = _client(user)
            barrier.wait()
            response = client.post(url, body, format="json", headers={HEADER: "together"})
            with lock:
                results.append((response.status_code, response.content))
        finally:
            connection.close()

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert [status for status, _body in results] == [201, 201], results
    assert results[0][1] == results[1][1]
    assert creation.created() == count + 1
    assert IdempotencyKey.objects.filter(user=user, key="together").count() == 1
