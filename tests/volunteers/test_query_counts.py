"""The review queue answers in a fixed number of queries, however many applications it lists."""

import pytest

from apps.volunteers.services import application_submit
from tests.accounts.factories import make_user
from tests.volunteers.ids import resident_id, years_ago
from tests.volunteers.world import application, build_applications


@pytest.fixture
def many(cast, org):
    build_applications(org)
    for n in range(10):
        application_submit(
            user=make_user(),
            data=application(
                village=org["village_a1"],
                categories=[org["category"]],
                id_number=resident_id(years_ago(20 + n), sequence=f"{200 + n}"),
            ),
        )


def test_the_queue_api_lists_in_two_queries(api, cast, many, django_assert_num_queries):
    client = api(cast.dispatcher)  # authenticated in memory: its staff node is already loaded
    # 1: the count for the page; 2: the rows, with user, township and village joined.
    with django_assert_num_queries(2):
        response = client.get("/api/v1/volunteer-applications/", {"status": "pending"})
    assert response.status_code == 200 and response.json()["count"] == 12


def test_the_queue_page_lists_in_a_fixed_number_of_queries(client, cast, many, django_assert_num_queries):
    client.force_login(cast.dispatcher)
    # 1: the session; 2: the user; 3: the staff node (area_of); 4: the count for the page;
    # 5: the rows, with user, township and village joined; 6: the nav's "is a volunteer" check.
    with django_assert_num_queries(6):
        response = client.get("/s/volunteers/")
    assert response.status_code == 200
