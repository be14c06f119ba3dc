"""The cast of the staff pages' and API's tests of the matching queue: one matrix of roles, the
rows a refused call must leave as they were, and a queued request with teams on both sides."""

from typing import Any

from apps.matching.models import MatchState
from apps.service_requests.models import ServiceRequest
from apps.service_requests.services import request_review
from apps.teams.models import Team, TeamKind
from tests.accounts.factories import make_user
from tests.workflow.scenario import db_state, submit

# The roles of the matrix, and the staff whose area holds the request (太平庄村, township A).
ROLES = [
    "anonymous",
    "resident",
    "volunteer",
    "station_staff_a2",
    "station_staff_a1",
    "staff_a",
    "staff_b",
    "sub_centre_staff",
    "dispatcher",
]
MANAGERS = {"station_staff_a1", "staff_a", "sub_centre_staff", "dispatcher"}


def state() -> dict[str, Any]:
    """Everything a refused call must leave as it was: the loop's rows, and the queue's."""
    return {
        **db_state(),
        "modes": sorted(ServiceRequest.objects.values_list("id", "dispatch_mode")),
        "match": sorted(MatchState.objects.values_list("request_id", "needs_person", "team_id", "waves_sent")),
    }


def build_world(cast: Any, org: dict[str, Any]) -> dict[str, Any]:
    """A queued request of the resident in 太平庄村 (directed), the staff of its neighbour
    village's station, and a team of township A and one of township B."""
    request = submit(requester=cast.resident, category=org["category"], village=org["village_a1"])
    request_review(request=request, actor=cast.staff_a, accept=True)
    return {
        "request": ServiceRequest.objects.get(id=request.id),
        "station_staff_a2": make_user(name="冯站长", staff_node=org["station_a2"]),
        "team_a": Team.objects.create(
            name="桃园志愿服务队", node=org["office_a"], township=org["township_a"], kind=TeamKind.STANDING
        ),
        "team_b": Team.objects.create(
            name="码头志愿服务队", node=org["office_b"], township=org["township_b"], kind=TeamKind.STANDING
        ),
    }
