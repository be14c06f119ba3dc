"""What each staff member of the cast can list through the API, on a grid of requests and
volunteers in every village and both fields, written out by hand for every staff role.

The fields: "convenience" (便民服务) belongs to the sub-centre of the cast, "environment"
(环境治理) to no sub-centre. The places: villages A1 and A2 of township A, village B1 of
township B."""

import pytest

from apps.accounts.models import User
from apps.organisation.models import OrgNode
from tests.accounts.factories import make_user
from tests.volunteers.factories import make_volunteer
from tests.workflow.scenario import submit

REQUESTS = {
    # name: (village, category)
    "a1_convenience": ("village_a1", "category"),
    "a1_environment": ("village_a1", "other_category"),
    "a2_convenience": ("village_a2", "category"),
    "a2_environment": ("village_a2", "other_category"),
    "b1_convenience": ("village_b1", "category"),
    "b1_environment": ("village_b1", "other_category"),
}
EVERY_REQUEST = {*REQUESTS, "sub_centre_own"}
EVERY_VOLUNTEER = {
    "a1_convenience",
    "a2_convenience",
    "a1_environment",
    "a_environment_no_village",
    "b1_convenience",
    "b1_environment",
    "b_both",
}

REQUESTS_LISTED = {
    "station_staff_a1": {"a1_convenience", "a1_environment"},
    "staff_a": {"a1_convenience", "a1_environment", "a2_convenience", "a2_environment", "sub_centre_own"},
    "staff_b": {"b1_convenience", "b1_environment"},
    # Its field in every township, and the request it made itself as a resident.
    "sub_centre_staff": {"a1_convenience", "a2_convenience", "b1_convenience", "sub_centre_own"},
    "centre_office_staff": EVERY_REQUEST,
    "dispatcher": EVERY_REQUEST,
    "admin": EVERY_REQUEST,
    "fieldless_sub_centre_staff": set(),
}
VOLUNTEERS_LISTED = {
    # A village station sees those living in its village, so not one with no village on record.
    "station_staff_a1": {"a1_convenience", "a1_environment"},
    "staff_a": {"a1_convenience", "a2_convenience", "a1_environment", "a_environment_no_village"},
    "staff_b": {"b1_convenience", "b1_environment", "b_both"},
    "sub_centre_staff": {"a1_convenience", "a2_convenience", "b1_convenience", "b_both"},
    "centre_office_staff": EVERY_VOLUNTEER,
    "dispatcher": EVERY_VOLUNTEER,
    "admin": EVERY_VOLUNTEER,
    "fieldless_sub_centre_staff": set(),
}


@pytest.fixture
def grid(cast, org) -> dict:
    requests = {
        name: submit(requester=cast.resident, village=org[village], category=org[category]).id
        for name, (village, category) in REQUESTS.items()
    }
    requests["sub_centre_own"] = submit(
        requester=cast.sub_centre_staff, village=org["village_a2"], category=org["other_category"]
    ).id
    convenience, environment = org["category"], org["other_category"]
    volunteers = {
        "a1_convenience": cast.volunteer.id,
        "a2_convenience": cast.other_volunteer.id,
        "a1_environment": make_volunteer(
            township=org["township_a"], village=org["village_a1"], categories=[environment]
        ).id,
        "a_environment_no_village": make_volunteer(township=org["township_a"], categories=[environment]).id,
        "b1_convenience": make_volunteer(
            township=org["township_b"], village=org["village_b1"], categories=[convenience]
        ).id,
        "b1_environment": make_volunteer(
            township=org["township_b"], village=org["village_b1"], categories=[environment]
        ).id,
        "b_both": make_volunteer(township=org["township_b"], categories=[convenience, environment]).id,
    }
    staff = {
        role: getattr(cast, role)
        for role in REQUESTS_LISTED
        if role != "fieldless_sub_centre_staff"  # 理论宣讲分中心 looks after none of the fields
    }
    staff["fieldless_sub_centre_staff"] = make_user(
        name="冯主任", staff_node=OrgNode.objects.get(name="理论宣讲分中心", kind=OrgNode.Kind.SUB_CENTRE)
    )
    return {"requests": requests, "volunteers": volunteers, "staff": staff}


def _listed(client, url: str) -> list[int]:
    response = client.get(url)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["count"] == len(body["results"])  # all on one page
    return [row["id"] for row in body["results"]]


@pytest.mark.parametrize("role", list(REQUESTS_LISTED))
def test_each_staff_role_lists_exactly_the_requests_and_volunteers_of_its_area(grid, api, role):
    client = api(User.objects.get(id=grid["staff"][role].id))
    names = {pk: name for name, pk in grid["requests"].items()}
    volunteer_names = {pk: name for name, pk in grid["volunteers"].items()}

    listed = _listed(client, "/api/v1/requests/?page_size=100")
    assert sorted(names[pk] for pk in listed) == sorted(REQUESTS_LISTED[role])

    listed = _listed(client, "/api/v1/volunteers/?page_size=100")
    assert sorted(volunteer_names[pk] for pk in listed) == sorted(VOLUNTEERS_LISTED[role])
