"""Property-based fuzzing of the whole API against its own OpenAPI schema, with schemathesis.

Each operation of ``/api/schema/`` gets, for each role, requests generated from the schema —
valid and invalid bodies, query strings and path ids, part of them aimed at rows that exist —
sent in-process to Django's WSGI app with the role's DRF token. Every response must:

- not be a 5xx (the rule: no endpoint returns 500 on any input);
- have a status code and content type that the operation documents, and a body that matches
  the documented schema (``status_code_conformance``, ``content_type_conformance``,
  ``response_schema_conformance``, ``response_headers_conformance``);
- reject what the schema says is invalid (``negative_data_rejection``);
- refuse a request without the token or with a wrong one (``ignored_auth``), answer an
  undocumented method with 405 and an ``Allow`` header, and so on: every check schemathesis
  runs by default except the one below.

``positive_data_acceptance`` is off: it wants every schema-valid request accepted, but this API
answers 400 for what no schema can say — an id of a row that does not exist or is outside the
user's area, a wrong password, a reason required by the choice made in another field, a phone
number that is not one (see ``tests/workflow/test_api_bad_input.py``).

Deterministic (derandomized, no example database) and bounded, for CI: 30 examples a phase and
operation, one test per operation and role, in the test's transaction."""

from datetime import timedelta

import pytest
import schemathesis
import schemathesis.checks
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis.core.parameters import ParameterLocation

from apps.dispatch.models import Offer
from apps.notifications.models import Notification
from apps.organisation.models import Place, ServiceCategory
from apps.ratings.models import FollowUp, FollowUpReason
from apps.service_requests.models import ServiceRequest
from apps.teams import services as team_services
from apps.teams.models import Team, TeamMembership
from apps.volunteers.models import VolunteerProfile
from tests.accounts.factories import PASSWORD
from tests.volunteers.factories import make_volunteer
from tests.workflow.scenario import CONTACT_PHONE, actor_user, advance, build_world

ROLES = ["resident", "volunteer", "staff_a", "dispatcher"]
# Values the schema cannot describe exactly enough for a generated one to pass (a phone number,
# a decimal string), for the requests aimed at real rows.
REAL_VALUES = {
    "contact_phone": CONTACT_PHONE,
    "requester_phone": CONTACT_PHONE,
    "latitude": "39.48",
    "longitude": "115.97",
}

CONFIG = schemathesis.Config.from_dict(
    {
        "generation": {
            "max-examples": 30,
            "deterministic": True,  # Hypothesis's derandomize: the same examples on every run
            "database": "none",  # nor replays of earlier failures from a .hypothesis directory
            # The token is ours (below): schemathesis is not to make up Authorization or session cookies.
            "with-security-parameters": False,
        },
        "checks": {"positive_data_acceptance": {"enabled": False}},
        # The schema's examples name ids of no real row; tests/core/test_schema.py checks them
        # against the schema instead (and schemathesis cannot mix them with ``@schema.given``).
        "phases": {"examples": {"enabled": False}},
    }
)

# Loaded once, at collection: producing the schema reads no database.
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", WSGIHandler(), config=CONFIG)


@pytest.fixture
def keep_connection():
    """The app runs as plain WSGI, not through Django's test client, so the request signals would
    close the database connection, and with it the test's transaction, after every request."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(params=ROLES)
def fuzz_world(request, cast, org, keep_connection) -> dict:
    """The cast, requests in several states, offers and notifications to aim at, and the role's token."""
    cache.clear()  # the log-in throttle counts in the cache
    world = advance(build_world(cast, org), "offered")
    # A team of township A with one member and one application, and an application under review.
    team = team_services.team_create(actor=cast.staff_a, node=org["office_a"], name="桃园助老服务队", kind="standing")
    team_services.membership_apply(team=team, volunteer=cast.volunteer)
    team_services.membership_invite(
        team=team, actor=cast.staff_a, volunteer_number=str(cast.other_volunteer.volunteer_number)
    )
    make_volunteer(township=org["township_a"], village=org["village_a1"], categories=[org["category"]], verified=False)
    # A 回访 case to aim the follow-up endpoints at.
    FollowUp.objects.create(
        request=world.request,
        station=world.request.station,
        reason=FollowUpReason.ROUTINE,
        due_at=timezone.now() + timedelta(hours=48),
    )
    user = actor_user(cast, request.param)
    assert user is not None  # every role of the fuzzing signs in
    token = Token.objects.create(user=user)
    return {
        "headers": {"Authorization": f"Token {token.key}"},
        # An ``{id}`` in the path, by the collection it is in.
        "path_ids": {
            "requests": list(ServiceRequest.objects.values_list("id", flat=True)),
            "offers": list(Offer.objects.values_list("id", flat=True)),
            "notifications": list(Notification.objects.values_list("id", flat=True)),
            "volunteers": list(VolunteerProfile.objects.values_list("id", flat=True)),
            "volunteer-applications": list(VolunteerProfile.objects.values_list("id", flat=True)),
            "teams": list(Team.objects.values_list("id", flat=True)),
            "team-memberships": list(TeamMembership.objects.values_list("id", flat=True)),
            "follow-ups": list(FollowUp.objects.values_list("id", flat=True)),
        },
        # An id in a query string or a body, by its name.
        "field_ids": {
            "category": list(ServiceCategory.objects.values_list("id", flat=True)),
            "village": list(Place.objects.filter(kind=Place.Kind.VILLAGE).values_list("id", flat=True)),
            "township": list(Place.objects.filter(kind=Place.Kind.TOWNSHIP).values_list("id", flat=True)),
            "parent": list(Place.objects.values_list("id", flat=True)),
            "volunteer_ids": list(VolunteerProfile.objects.values_list("id", flat=True)),
        },
        "phone": world.cast.resident.phone,
    }


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _negative_at(case, location: ParameterLocation) -> bool:
    return case.meta is not None and case.meta.is_negative_at(location)


def aim_at_real_rows(case, data, world: dict) -> None:
    """In about half the examples, swap the generated ids for ids of rows that exist (and made-up
    phone numbers, coordinates and credentials for real ones), so that requests get past the
    lookups into the code behind them. A part of the request generated to be invalid is left as it is."""
    if not data.draw(st.booleans(), label="aim at real rows"):
        return
    path = case.path_parameters or {}
    rows = world["path_ids"].get(case.operation.path.split("/")[3], [])
    if rows and "id" in path and not _negative_at(case, ParameterLocation.PATH):
        path["id"] = data.draw(st.sampled_from(rows), label="path id")
    for location, values in ((ParameterLocation.QUERY, case.query), (ParameterLocation.BODY, case.body)):
        if not isinstance(values, dict) or _negative_at(case, location):
            continue
        for name, ids in world["field_ids"].items():
            value = values.get(name)
            if _is_int(value):
                values[name] = data.draw(st.sampled_from(ids), label=name)
            elif isinstance(value, list) and value and all(map(_is_int, value)):
                values[name] = data.draw(st.lists(st.sampled_from(ids), min_size=1, unique=True), label=name)
        for name, real in REAL_VALUES.items():
            if isinstance(values.get(name), str):
                values[name] = real
        if isinstance(values.get("phone"), str) and isinstance(values.get("password"), str):
            values.update(phone=world["phone"], password=PASSWORD)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@schema.parametrize()
@schema.given(data=st.data())
def test_the_api_answers_every_input_as_its_schema_says(case, data, fuzz_world):
    aim_at_real_rows(case, data, fuzz_world)
    excluded = [] if case.media_type in (None, "application/json") else [schemathesis.checks.negative_data_rejection]
    case.call_and_validate(headers=fuzz_world["headers"], excluded_checks=excluded)
