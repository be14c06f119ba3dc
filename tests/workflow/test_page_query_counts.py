"""Every list and detail page runs a fixed number of queries, however many rows it shows.

Each test builds one row, then five, and pins the same count for both. The user is signed in
with a session, so each page view reads the session and the user from the database, as a real
one does; every page of a signed-in user also reads their volunteer profile once, for the menu
(``user.is_volunteer``). Each page is served once before it is measured, as in a running server:
what the first view of a process caches is not counted."""

import pytest

from apps.dispatch.models import Offer
from apps.dispatch.services import dispatch_directed, offer_accept, offer_check_in, offer_complete
from apps.service_requests.models import ServiceRequest
from apps.service_requests.services import RequestInput, request_review, request_submit
from tests.volunteers.factories import make_volunteer
from tests.workflow.scenario import submit

ROWS = [1, 5]


def _submitted(cast, org, n: int) -> list[ServiceRequest]:
    return [submit(requester=cast.resident, category=org["category"], village=org["village_a1"]) for _ in range(n)]


def _offered_to_volunteer(cast, org, n: int) -> list:
    offers = []
    for request in _submitted(cast, org, n):
        request_review(request=request, actor=cast.staff_a, accept=True)
        offers += dispatch_directed(request=request, actor=cast.staff_a, volunteers=[cast.volunteer])
    return offers


def _with_volunteers(cast, org, n: int) -> ServiceRequest:
    """A request for n + 1 volunteers, n of whom accepted: its page lists the n, its timeline grows
    with them, and it can still be dispatched, so staff see the candidates (n + 1 in township A)."""
    request = request_submit(
        data=RequestInput(
            category=org["category"],
            title="陪同老人去医院复查",
            description="需要志愿者陪同。",
            village=org["village_a1"],
            address="太平庄村南街3号",
            contact_name="王秀兰",
            contact_phone="13912345678",
            urgency="normal",
            volunteers_needed=n + 1,
        ),
        requester=cast.resident,
        entered_by=cast.resident,
    )
    request_review(request=request, actor=cast.staff_a, accept=True)
    volunteers = [cast.volunteer] + [
        make_volunteer(township=org["township_a"], village=org["village_a1"], categories=[org["category"]])
        for _ in range(n - 1)
    ]
    for offer, volunteer in zip(
        dispatch_directed(request=request, actor=cast.staff_a, volunteers=volunteers), volunteers, strict=True
    ):
        offer_accept(offer=offer, volunteer=volunteer)
    return ServiceRequest.objects.get(id=request.id)


def _more_candidates(org, n: int) -> None:
    for _ in range(n):
        make_volunteer(township=org["township_a"], village=org["village_a2"], categories=[org["category"]])


def _get(client, user, url: str):
    client.force_login(user)
    assert client.get(url).status_code == 200  # served once before it is measured
    return client


@pytest.mark.parametrize("rows", ROWS)
def test_my_requests_page_runs_five_queries(client, cast, org, django_assert_num_queries, rows):
    requests = _submitted(cast, org, rows)
    client = _get(client, cast.resident, "/r/requests/")

    with django_assert_num_queries(5):
        # 1. the session
        # 2. the user
        # 3. COUNT(*) of the resident's requests, for the pager
        # 4. the user's volunteer profile (none), for the menu
        # 5. the page of requests, joined to category, township, village and station
        response = client.get("/r/requests/")

    html = response.content.decode()
    assert [f'href="/r/requests/{r.id}/"' in html for r in requests] == [True] * rows


@pytest.mark.parametrize("rows", ROWS)
def test_my_request_detail_page_runs_eight_queries(client, cast, org, django_assert_num_queries, rows):
    request = _with_volunteers(cast, org, rows)
    client = _get(client, cast.resident, f"/r/requests/{request.id}/")

    with django_assert_num_queries(8):
        # 1. the session
        # 2. the user
        # 3. the request, among the user's own, joined to category, township, village and station
        # 4. its rating (none yet)
        # 5. its timeline, each event joined to its actor
        # 6. the offers holding a place, joined to volunteer and user (masked names)
        # 7. the hotline, up the tree from the station (which has none of its own here)
        # 8. the user's volunteer profile (none), for the menu
        response = client.get(f"/r/requests/{request.id}/")

    html = response.content.decode()
    numbers = Offer.objects.filter(request=request).values_list("volunteer__volunteer_number", flat=True)
    assert [f"（{number}）" in html for number in numbers] == [True] * rows


@pytest.mark.parametrize("rows", ROWS)
def test_volunteer_offers_page_runs_five_queries(client, cast, org, django_assert_num_queries, rows):
    offers = _offered_to_volunteer(cast, org, rows)
    client = _get(client, cast.volunteer.user, "/v/offers/")

    with django_assert_num_queries(5):
        # 1. the session
        # 2. the user
        # 3. the user's volunteer profile (the page is for volunteers; the menu reuses it)
        # 4. COUNT(*) of the open offers, for the pager (20 a page)
        # 5. the page of open offers, joined to request, its category, township and village, and
        #    the volunteer with their user: nothing per row
        response = client.get("/v/offers/")

    html = response.content.decode()
    assert [f'id="offer-{o.id}"' in html for o in offers] == [True] * rows


@pytest.mark.parametrize("rows", ROWS)
def test_volunteer_tasks_page_runs_six_queries(client, cast, org, django_assert_num_queries, rows):
    active = _offered_to_volunteer(cast, org, rows)
    done = _offered_to_volunteer(cast, org, rows)
    for offer in active + done:
        offer_accept(offer=offer, volunteer=cast.volunteer)
    for offer in done:
        offer_check_in(offer=offer, volunteer=cast.volunteer)
        offer_complete(offer=offer, volunteer=cast.volunteer, report="已完成")
    client = _get(client, cast.volunteer.user, "/v/tasks/")

    with django_assert_num_queries(6):
        # 1. the session
        # 2. the user
        # 3. the user's volunteer profile
        # 4. COUNT(*) of the tasks in progress, for the pager (20 a page)
        # 5. the page of tasks in progress, joined as on the offers page
        # 6. the last 20 completed tasks, joined likewise
        response = client.get("/v/tasks/")

    html = response.content.decode()
    assert [f'id="task-{o.id}"' in html for o in active] == [True] * rows
    assert html.count('<li class="card">') == rows  # the completed ones


@pytest.mark.parametrize("rows", ROWS)
def test_staff_queue_page_runs_six_queries(client, cast, org, django_assert_num_queries, rows):
    requests = _submitted(cast, org, rows)
    client = _get(client, cast.staff_a, "/s/queue/")

    with django_assert_num_queries(6):
        # 1. the session
        # 2. the user
        # 3. the user's node (a township office: its area is the township)
        # 4. COUNT(*) of the "todo" requests of the township, for the pager
        # 5. the user's volunteer profile (none), for the menu
        # 6. the page of requests, joined to category, township, village and station
        response = client.get("/s/queue/")

    html = response.content.decode()
    assert [f'href="/s/requests/{r.id}/"' in html for r in requests] == [True] * rows


@pytest.mark.parametrize("rows", ROWS)
def test_staff_queue_page_of_a_sub_centre_runs_seven_queries(client, cast, org, django_assert_num_queries, rows):
    requests = _submitted(cast, org, rows)
    client = _get(client, cast.sub_centre_staff, "/s/queue/")

    with django_assert_num_queries(7):
        # 1. the session
        # 2. the user
        # 3. the user's node (a sub-centre)
        # 4. the fields the sub-centre looks after: its area
        # 5. COUNT(*) of the "todo" requests of those fields, for the pager
        # 6. the user's volunteer profile (none), for the menu
        # 7. the page of requests, joined as above
        response = client.get("/s/queue/")

    html = response.content.decode()
    assert [f'href="/s/requests/{r.id}/"' in html for r in requests] == [True] * rows


@pytest.mark.parametrize("rows", ROWS)
def test_staff_request_detail_page_runs_fourteen_queries(client, cast, org, django_assert_num_queries, rows):
    request = _with_volunteers(cast, org, rows)
    # Candidates: the other volunteer of township A and as many more as the request has taken (those
    # who accepted are not candidates any more).
    _more_candidates(org, rows)
    client = _get(client, cast.staff_a, f"/s/requests/{request.id}/")

    with django_assert_num_queries(14):
        # 1. the session
        # 2. the user
        # 3. the user's node (a township office)
        # 4. the request, among those of the township, joined to category, township, village and station
        # 5. its timeline, each event joined to its actor
        # 6. the offers holding a place, joined to volunteer and user
        # 7. its rating (none yet)
        # 8. the ranked candidates: the page of 20 (and one more, to know if more follow) of the
        #    volunteers of the area, hard filters, score and reach in one query
        # 9. the history of the candidates on the page, for their reasons (one grouped query)
        # 10. the queue's state of the request (none: it is dispatched by staff)
        # 11. the waves the queue sent (none)
        # 12. the user's volunteer profile (none), for the menu
        # 13. the active teams of the area, for the mode's team picker
        # 14. the townships, for the candidate filter
        response = client.get(f"/s/requests/{request.id}/")

    html = response.content.decode()
    assert html.count('name="volunteer_ids"') == rows + 1


@pytest.mark.parametrize("rows", ROWS)
def test_staff_request_detail_page_of_a_sub_centre_runs_fifteen_queries(
    client, cast, org, django_assert_num_queries, rows
):
    request = _with_volunteers(cast, org, rows)
    # Candidates: the other volunteer of township A and as many more as the request has taken (those
    # who accepted are not candidates any more).
    _more_candidates(org, rows)
    client = _get(client, cast.sub_centre_staff, f"/s/requests/{request.id}/")

    with django_assert_num_queries(15):
        # 1. the session
        # 2. the user
        # 3. the user's node (a sub-centre)
        # 4. the fields the sub-centre looks after
        # 5. the request, among those of its fields
        # 6. its timeline with actors
        # 7. the offers holding a place, with volunteer and user
        # 8. its rating
        # 9. the ranked candidates, of its fields (a subquery, so no row repeats)
        # 10. the candidates' history, for their reasons
        # 11. the queue's state of the request
        # 12. the waves the queue sent
        # 13. the user's volunteer profile (none), for the menu
        # 14. the active teams serving its fields, for the team picker
        # 15. the townships, for the candidate filter
        response = client.get(f"/s/requests/{request.id}/")

    html = response.content.decode()
    assert html.count('name="volunteer_ids"') == rows + 1


@pytest.mark.parametrize("rows", ROWS)
def test_notifications_page_runs_five_queries(client, cast, org, django_assert_num_queries, rows):
    _submitted(cast, org, rows)  # one "received" notification each
    client = _get(client, cast.resident, "/notifications/")

    with django_assert_num_queries(5):
        # 1. the session
        # 2. the user
        # 3. COUNT(*) of the user's notifications, for the pager
        # 4. the page of notifications (title, body and link are stored with each: no query per row)
        # 5. the user's volunteer profile (none), for the menu
        response = client.get("/notifications/")

    assert response.content.decode().count('<li class="card unread">') == rows
