"""Every list endpoint runs a fixed number of queries, however many rows it returns.

Each test builds one row, then five or more, and pins the same count for both. The user is
re-read from the database before each call, as authentication does on a real request, so a
staff member's node is not already cached on the object the test holds."""

import pytest

from apps.accounts.models import User
from apps.dispatch.services import dispatch_directed, offer_accept
from apps.organisation.models import Place, ServiceCategory
from apps.service_requests.services import request_review
from tests.organisation.factories import PlaceFactory, ServiceCategoryFactory
from tests.service_requests.factories import submit_request
from tests.volunteers.factories import make_volunteer

ROWS = [1, 5]


def _fresh(api, user):
    return api(User.objects.get(id=user.id))


def _submitted(cast, org, n: int) -> list:
    return [
        submit_request(requester=cast.resident, category=org["category"], village=org["village_a1"]) for _ in range(n)
    ]


def _offered(cast, org, n: int) -> list:
    """``n`` requests, each offered to the volunteer (and to the other volunteer, so a staff
    list holds 2n offers)."""
    offers = []
    for request in _submitted(cast, org, n):
        request_review(request=request, actor=cast.staff_a, accept=True)
        offers += dispatch_directed(
            request=request, actor=cast.staff_a, volunteers=[cast.volunteer, cast.other_volunteer]
        )
    return offers


@pytest.mark.parametrize("rows", ROWS)
def test_requests_list_for_a_resident_runs_two_queries(cast, org, api, django_assert_num_queries, rows):
    _submitted(cast, org, rows)
    client = _fresh(api, cast.resident)

    with django_assert_num_queries(2):
        # 1. COUNT(*) of the resident's own requests, for the page's "count"
        # 2. the page of requests, joined to category, township, village, station and requester
        response = client.get("/api/v1/requests/")

    assert response.status_code == 200
    assert len(response.json()["results"]) == rows


@pytest.mark.parametrize("rows", ROWS)
def test_requests_list_for_staff_runs_three_queries(cast, org, api, django_assert_num_queries, rows):
    _submitted(cast, org, rows)
    client = _fresh(api, cast.staff_a)

    with django_assert_num_queries(3):
        # 1. the staff member's node (a township office: its area is that township)
        # 2. COUNT(*) of requests located in that township or that they made
        # 3. the page of requests, joined as above
        response = client.get("/api/v1/requests/")

    assert response.status_code == 200
    assert len(response.json()["results"]) == rows


@pytest.mark.parametrize("rows", ROWS)
def test_requests_list_for_the_centre_with_filters_runs_three_queries(cast, org, api, django_assert_num_queries, rows):
    _submitted(cast, org, rows)
    client = _fresh(api, cast.dispatcher)
    query = f"?status=submitted&township={org['township_a'].id}&category={org['category'].id}"

    with django_assert_num_queries(3):
        # 1. the dispatcher's node (the centre: its area is the whole city)
        # 2. COUNT(*) of the filtered requests
        # 3. the page of requests, joined as above
        response = client.get(f"/api/v1/requests/{query}")

    assert response.status_code == 200
    assert len(response.json()["results"]) == rows


@pytest.mark.parametrize("rows", ROWS)
def test_offers_list_for_a_volunteer_runs_two_queries(cast, org, api, django_assert_num_queries, rows):
    _offered(cast, org, rows)
    client = _fresh(api, cast.volunteer.user)

    with django_assert_num_queries(2):
        # 1. COUNT(*) of the volunteer's offers
        # 2. the page of offers, joined to request, its category, township and village, and the
        #    volunteer with their user (masked name): nothing per row, and no contact to fill in
        response = client.get("/api/v1/offers/")

    assert response.status_code == 200
    assert len(response.json()["results"]) == rows


@pytest.mark.parametrize("rows", ROWS)
def test_offers_list_with_contacts_shown_runs_three_queries(cast, org, api, django_assert_num_queries, rows):
    for offer in _offered(cast, org, rows):
        if offer.volunteer_id == cast.volunteer.id:
            offer_accept(offer=offer, volunteer=cast.volunteer)
    client = _fresh(api, cast.volunteer.user)

    with django_assert_num_queries(3):
        # 1. COUNT(*) of the volunteer's offers
        # 2. the page of offers, joined as above, without the encrypted contact columns
        # 3. the contact of the requests on the page the volunteer holds a place on, in one query
        response = client.get("/api/v1/offers/")

    assert response.status_code == 200
    results = response.json()["results"]
    assert [(o["status"], o["request"]["contact_phone"], o["request"]["address"]) for o in results] == [
        ("accepted", "13912345678", "太平庄村东街12号")
    ] * rows


@pytest.mark.parametrize("rows", ROWS)
def test_offers_list_for_staff_runs_three_queries(cast, org, api, django_assert_num_queries, rows):
    _offered(cast, org, rows)
    client = _fresh(api, cast.staff_a)

    with django_assert_num_queries(3):
        # 1. the staff member's node
        # 2. COUNT(*) of offers on requests of their area (the requests are a subquery)
        # 3. the page of offers, joined as above
        response = client.get("/api/v1/offers/")

    assert response.status_code == 200
    assert len(response.json()["results"]) == 2 * rows


@pytest.mark.parametrize("rows", ROWS)
def test_volunteers_list_for_a_township_office_runs_four_queries(cast, org, api, django_assert_num_queries, rows):
    for _ in range(rows):
        make_volunteer(
            township=org["township_b"], village=org["village_b1"], categories=[org["category"], org["other_category"]]
        )
    client = _fresh(api, cast.staff_b)

    with django_assert_num_queries(4):
        # 1. the staff member's node (is it the centre? which township is it?)
        # 2. COUNT(*) of the distinct volunteers living in that township
        # 3. the page of volunteers, joined to user, home township and home village
        # 4. the categories of every volunteer on the page, prefetched in one query
        response = client.get("/api/v1/volunteers/")

    assert response.status_code == 200
    assert len(response.json()["results"]) == rows


@pytest.mark.parametrize("rows", ROWS)
def test_volunteers_list_for_the_centre_runs_four_queries(cast, org, api, django_assert_num_queries, rows):
    for _ in range(rows):
        make_volunteer(township=org["township_b"], village=org["village_b1"], categories=[org["category"]])
    client = _fresh(api, cast.dispatcher)

    with django_assert_num_queries(4):
        # 1. the dispatcher's node (depth 1: the centre sees the whole city)
        # 2. COUNT(*) of the distinct volunteers in township B
        # 3. the page of volunteers, joined as above
        # 4. their categories, prefetched in one query
        response = client.get(f"/api/v1/volunteers/?township={org['township_b'].id}")

    assert response.status_code == 200
    assert len(response.json()["results"]) == rows


@pytest.mark.parametrize("rows", ROWS)
def test_notifications_list_runs_two_queries(cast, org, api, django_assert_num_queries, rows):
    _submitted(cast, org, rows)  # one "received" notification each
    client = _fresh(api, cast.resident)

    with django_assert_num_queries(2):
        # 1. COUNT(*) of the user's notifications
        # 2. the page of notifications (title and body are rendered from stored params, no query)
        response = client.get("/api/v1/notifications/")

    assert response.status_code == 200
    assert len(response.json()["results"]) == rows


@pytest.mark.parametrize("rows", ROWS)
def test_categories_list_runs_one_query(cast, org, api, django_assert_num_queries, rows):
    ServiceCategory.objects.exclude(id=org["category"].id).update(is_active=False)
    for _ in range(rows - 1):
        ServiceCategoryFactory()
    client = _fresh(api, cast.resident)

    with django_assert_num_queries(1):
        # 1. the active categories (reference data: not paginated, so no COUNT)
        response = client.get("/api/v1/categories/")

    assert response.status_code == 200
    assert len(response.json()) == rows


@pytest.mark.parametrize("rows", ROWS)
def test_places_list_runs_one_query(cast, org, api, django_assert_num_queries, rows):
    for _ in range(rows - 1):  # township B already has one village
        PlaceFactory(kind=Place.Kind.VILLAGE, parent=org["township_b"])
    client = api()  # reference data is public

    with django_assert_num_queries(1):
        # 1. the villages of township B (reference data: not paginated, so no COUNT)
        response = client.get(f"/api/v1/places/?parent={org['township_b'].id}")

    assert response.status_code == 200
    assert len(response.json()) == rows
