"""接单 under real contention: many volunteers press "accept" at the same instant over HTTP.

Each volunteer has their own HTTP session and API token against the live server (one thread
and one PostgreSQL connection per request), and a barrier releases all the POSTs together.
The request-row lock plus the conditional increment must let exactly ``volunteers_needed``
win; everyone else gets a clean 409, never a 500 or a deadlock."""

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.db import OperationalError, connection, transaction
from rest_framework.authtoken.models import Token

from apps.dispatch.models import Offer, OfferStatus
from apps.dispatch.services import dispatch_directed
from apps.notifications.models import Kind, Notification
from apps.organisation.models import OrgNode
from apps.service_requests.models import RequestEvent, ServiceRequest, Status
from apps.service_requests.services import request_lock, request_review
from tests.service_requests.factories import submit_request
from tests.volunteers.factories import make_volunteer

pytestmark = pytest.mark.postgres

ROUNDS = 20
VOLUNTEERS = 50
NEEDED = 3
LOSER_CODES = {"offer_taken"}


def _wait_for_server_connections_to_close(timeout: float = 10.0) -> None:
    """The live server's handler threads close their database connections when their HTTP
    connection ends; wait for that so the test database can be flushed and later dropped."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0] == 0:
                return
        time.sleep(0.05)


def test_exactly_n_of_fifty_simultaneous_accepts_win_every_round(
    require_postgres, transactional_db, live_server, cast, org
):
    crowd = [
        make_volunteer(
            township=org["township_a"], village=org["village_a1"], categories=[org["category"]], password=None
        )
        for _ in range(VOLUNTEERS)
    ]
    sessions: dict[int, requests.Session] = {}
    for volunteer in crowd:
        session = requests.Session()
        session.headers["Authorization"] = f"Token {Token.objects.create(user=volunteer.user).key}"
        sessions[volunteer.id] = session
    try:
        with ThreadPoolExecutor(max_workers=VOLUNTEERS) as pool:
            # Open every keep-alive connection before the first round, so the POSTs of a round
            # reach the server together instead of queueing on its small listen backlog.
            for response in pool.map(lambda s: s.get(f"{live_server.url}/api/v1/me/", timeout=30), sessions.values()):
                assert response.status_code == 200, response.text
            for round_number in range(ROUNDS):
                _one_round(
                    round_number, pool=pool, sessions=sessions, crowd=crowd, cast=cast, org=org, url=live_server.url
                )
    finally:
        for session in sessions.values():
            session.close()
        _wait_for_server_connections_to_close()


def _one_round(round_number, *, pool, sessions, crowd, cast, org, url) -> None:
    request = submit_request(
        requester=cast.resident, category=org["category"], village=org["village_a1"], volunteers_needed=NEEDED
    )
    request_review(request=request, actor=cast.staff_a, accept=True)
    offers = dispatch_directed(request=request, actor=cast.staff_a, volunteers=crowd)
    assert len(offers) == VOLUNTEERS
    barrier = threading.Barrier(VOLUNTEERS, timeout=30)

    def accept(offer: Offer) -> tuple[int, int, dict]:
        session = sessions[offer.volunteer_id]
        barrier.wait()
        response = session.post(f"{url}/api/v1/offers/{offer.id}/accept/", timeout=60)
        try:
            body = response.json()
        except ValueError:
            body = {"raw": response.text[:500]}
        return offer.id, response.status_code, body

    results = list(pool.map(accept, offers))
    where = f"round {round_number}: {sorted(Counter(status for _id, status, _body in results).items())}"

    server_errors = [(offer_id, status, body) for offer_id, status, body in results if status >= 500]
    assert server_errors == [], where
    winners = {offer_id for offer_id, status, _body in results if status == 200}
    losers = [(offer_id, body) for offer_id, status, body in results if status == 409]
    assert len(winners) == NEEDED, where
    assert len(losers) == VOLUNTEERS - NEEDED, where
    assert {body.get("code") for _id, body in losers} <= LOSER_CODES, (where, losers[:3])
    assert all(body["status"] == OfferStatus.ACCEPTED for _id, status, body in results if status == 200), where

    request.refresh_from_db()
    assert request.status == Status.ACCEPTED, where
    assert request.volunteers_accepted == NEEDED, where
    statuses = dict(Offer.objects.filter(request=request).values_list("id", "status"))
    assert {oid for oid, status in statuses.items() if status == OfferStatus.ACCEPTED} == winners, where
    assert Counter(statuses.values()) == {OfferStatus.ACCEPTED: NEEDED, OfferStatus.WITHDRAWN: VOLUNTEERS - NEEDED}
    assert (
        RequestEvent.objects.filter(request=request, from_status=Status.OFFERED, to_status=Status.ACCEPTED).count() == 1
    ), where
    assert list(
        RequestEvent.objects.filter(request=request).values_list("from_status", "to_status").order_by("id")
    ) == [("", "submitted"), ("submitted", "queued"), ("queued", "offered"), ("offered", "accepted")], where
    # Every volunteer left out is told once; the resident hears of each of the three acceptances.
    assert Notification.objects.filter(request_id=request.id, kind=Kind.OFFER_CLOSED).count() == VOLUNTEERS - NEEDED
    assert Notification.objects.filter(request_id=request.id, kind=Kind.ACCEPTED, recipient=cast.resident).count() == (
        NEEDED
    )
    assert ServiceRequest.objects.filter(id=request.id, volunteers_accepted__gt=NEEDED).count() == 0


def test_locking_a_request_leaves_its_station_and_the_station_s_other_requests_free(
    require_postgres, transactional_db, cast, org
):
    """The request lock is the request row alone: a FOR UPDATE that also locked the joined
    station would queue every accept, decline and expiry of a whole station behind one."""
    first, second = (
        submit_request(requester=cast.resident, category=org["category"], village=org["village_a1"]) for _ in range(2)
    )
    holding, release = threading.Event(), threading.Event()

    def hold_first() -> None:
        try:
            with transaction.atomic():
                request_lock(request_id=first.id)
                holding.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_first)
    holder.start()
    try:
        assert holding.wait(timeout=10)
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '2s'")
            assert request_lock(request_id=second.id).station_id == org["station_a1"].id
            OrgNode.objects.select_for_update(nowait=True).get(id=org["station_a1"].id)
            with pytest.raises(OperationalError), transaction.atomic():  # the first request itself stays locked
                ServiceRequest.objects.select_for_update(nowait=True).get(id=first.id)
    finally:
        release.set()
        holder.join(timeout=30)
