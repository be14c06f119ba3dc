"""抢单 under real contention on PostgreSQL: 50 eligible volunteers take a request needing 3 at
the same instant, each in its own thread with its own database connection, released together by
a barrier. Exactly 3 win; the 47 others get a clean Conflict ``offer_taken`` (never a deadlock,
an integrity error or a fourth place), and the request's count, offers, events and notifications
tell the same story. Several rounds, so a lucky interleaving cannot pass for a correct one."""

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.db import connection
from rest_framework.authtoken.models import Token

from apps.core.errors import Conflict
from apps.dispatch.models import Offer, OfferEvent, OfferStatus
from apps.dispatch.services import request_cancel
from apps.matching.broadcast import open_task_take, open_tasks_for
from apps.notifications.models import Kind, Notification
from apps.organisation.models import DispatchMode
from apps.service_requests.models import RequestEvent, ServiceRequest, Status
from apps.volunteers.models import VolunteerProfile
from tests.dispatch.test_accept_race_postgres import _wait_for_server_connections_to_close
from tests.matching.test_broadcast import open_broadcast
from tests.volunteers.factories import make_volunteer

pytestmark = pytest.mark.postgres

ROUNDS = 5
VOLUNTEERS = 50
NEEDED = 3


def _take_all_at_once(request: ServiceRequest, crowd: list[VolunteerProfile]) -> list[tuple[int, str]]:
    """Every volunteer of ``crowd`` takes ``request`` at the same instant; (volunteer id, outcome)
    where the outcome is "won", a Conflict's code, or the repr of anything else raised."""
    barrier = threading.Barrier(len(crowd), timeout=30)

    def take(volunteer: VolunteerProfile) -> tuple[int, str]:
        try:
            barrier.wait()
            try:
                offer, taken = open_task_take(request=request, volunteer=volunteer)
            except Conflict as exc:
                return volunteer.id, exc.code
            except Exception as exc:  # anything else is a failure the test reports
                return volunteer.id, repr(exc)
            return volunteer.id, "won" if taken and offer.status == OfferStatus.ACCEPTED else "retry?"
        finally:
            connection.close()  # this thread's own connection

    with ThreadPoolExecutor(max_workers=len(crowd)) as pool:
        return list(pool.map(take, crowd))


def test_exactly_three_of_fifty_simultaneous_takes_win_every_round(require_postgres, transactional_db, cast, org):
    crowd = [
        make_volunteer(
            township=org["township_a"],
            village=org["village_a1"],
            categories=[org["category"]],
            phone=f"1350000{i:04d}",
            password=None,
        )
        for i in range(VOLUNTEERS)
    ]
    crowd = list(VolunteerProfile.objects.filter(id__in=[v.id for v in crowd]).select_related("user"))

    for round_number in range(ROUNDS):
        request = open_broadcast(cast, org, needed=NEEDED)
        assert all(open_tasks_for(volunteer=v)[0].id == request.id for v in crowd[:3])

        results = _take_all_at_once(request, crowd)

        where = f"round {round_number}: {sorted(Counter(outcome for _id, outcome in results).items())}"
        assert Counter(outcome for _id, outcome in results) == {"won": NEEDED, "offer_taken": VOLUNTEERS - NEEDED}, (
            where
        )
        winners = {volunteer_id for volunteer_id, outcome in results if outcome == "won"}

        request.refresh_from_db()
        assert (request.status, request.volunteers_accepted) == (Status.ACCEPTED, NEEDED), where
        offers = list(Offer.objects.filter(request=request))
        assert {(o.volunteer_id, o.status, o.via) for o in offers} == {
            (v, OfferStatus.ACCEPTED, DispatchMode.BROADCAST) for v in winners
        }, where
        assert Counter(OfferEvent.objects.filter(offer__request=request).values_list("from_status", "to_status")) == {
            ("", "offered"): NEEDED,
            ("offered", "accepted"): NEEDED,
        }, where
        assert list(
            RequestEvent.objects.filter(request=request)
            .order_by("created_at", "id")
            .values_list("from_status", "to_status", "reason_code")
        ) == [
            ("", "submitted", ""),
            ("submitted", "queued", ""),
            ("queued", "queued", "broadcast_opened"),
            ("queued", "offered", "taken_from_open_tasks"),
            ("offered", "offered", "taken_from_open_tasks"),
            ("offered", "offered", "taken_from_open_tasks"),
            ("offered", "accepted", "fully_staffed"),
        ], where
        # Each winner has a receipt; the resident hears of each of the three.
        receipts = Notification.objects.filter(request_id=request.id, kind=Kind.ACCEPTED)
        winner_users = set(VolunteerProfile.objects.filter(id__in=winners).values_list("user_id", flat=True))
        assert set(receipts.filter(recipient_id__in=winner_users).values_list("recipient_id", flat=True)) == (
            winner_users
        )
        assert receipts.filter(recipient=cast.resident).count() == NEEDED, where
        assert all(open_tasks_for(volunteer=v) == [] for v in crowd[:5]), where

        # Free the winners for the next round (a task they hold would overlap the next request).
        request_cancel(request=request, actor=cast.resident, reason="")


HTTP_ROUNDS = 3


def test_exactly_three_of_fifty_simultaneous_takes_over_http_win_every_round(
    require_postgres, transactional_db, live_server, cast, org
):
    """The same race through the API: one HTTP session and token per volunteer against the live
    server (one thread and one PostgreSQL connection per request); 201 for exactly three, a clean
    409 ``offer_taken`` for the rest, never a 5xx."""
    crowd = [
        make_volunteer(
            township=org["township_a"],
            village=org["village_a1"],
            categories=[org["category"]],
            phone=f"1340000{i:04d}",
            password=None,
        )
        for i in range(VOLUNTEERS)
    ]
    sessions: dict[int, requests.Session] = {}
    for volunteer in crowd:
        session = requests.Session()
        session.headers["Authorization"] = f"Token {Token.objects.create(user=volunteer.user).key}"
        sessions[volunteer.id] = session
    try:
        with ThreadPoolExecutor(max_workers=VOLUNTEERS) as pool:
            # Open every keep-alive connection first, so a round's POSTs reach the server together.
            for response in pool.map(lambda s: s.get(f"{live_server.url}/api/v1/me/", timeout=30), sessions.values()):
                assert response.status_code == 200, response.text
            for round_number in range(HTTP_ROUNDS):
                request = open_broadcast(cast, org, needed=NEEDED)
                barrier = threading.Barrier(VOLUNTEERS, timeout=30)

                def take(volunteer_id: int, request_id: int = request.id, barrier=barrier) -> tuple[int, int, dict]:
                    session = sessions[volunteer_id]
                    barrier.wait()
                    response = session.post(f"{live_server.url}/api/v1/open-tasks/{request_id}/take/", timeout=60)
                    try:
                        body = response.json()
                    except ValueError:
                        body = {"raw": response.text[:500]}
                    return volunteer_id, response.status_code, body

                results = list(pool.map(take, sessions))
                where = f"round {round_number}: {sorted(Counter(status for _v, status, _b in results).items())}"
                assert Counter(status for _v, status, _b in results) == {201: NEEDED, 409: VOLUNTEERS - NEEDED}, where
                assert {body["code"] for _v, status, body in results if status == 409} == {"offer_taken"}, where
                winners = {v for v, status, _b in results if status == 201}
                request.refresh_from_db()
                assert (request.status, request.volunteers_accepted) == (Status.ACCEPTED, NEEDED), where
                assert (
                    set(
                        Offer.objects.filter(request=request, status=OfferStatus.ACCEPTED).values_list(
                            "volunteer_id", flat=True
                        )
                    )
                    == winners
                ), where
                assert Offer.objects.filter(request=request).count() == NEEDED, where
                request_cancel(request=request, actor=cast.resident, reason="")
    finally:
        for session in sessions.values():
            session.close()
        _wait_for_server_connections_to_close()
