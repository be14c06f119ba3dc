"""The SLA sweep: requests left in the queue too long escalate to the centre."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.notifications.models import Notification
from apps.service_requests.models import RequestEvent, ServiceRequest
from apps.service_requests.models import Status as S
from apps.service_requests.services import request_review, requests_escalate_overdue
from tests.service_requests.factories import event_rows, submit_request


@pytest.fixture
def sla(settings):
    settings.ESCALATE_AFTER_MINUTES = {"normal": 24 * 60, "urgent": 120, "critical": 30}


def _queued(cast, org, *, urgency: str, age: timedelta) -> ServiceRequest:
    request = submit_request(
        requester=cast.resident, category=org["category"], village=org["village_a1"], urgency=urgency
    )
    request_review(request=request, actor=cast.staff_a, accept=True)
    ServiceRequest.objects.filter(id=request.id).update(created_at=timezone.now() - age)
    return ServiceRequest.objects.get(id=request.id)


def test_overdue_queued_requests_escalate_by_urgency_and_the_centre_is_told(cast, org, sla):
    urgent_late = _queued(cast, org, urgency="urgent", age=timedelta(minutes=121))
    urgent_in_time = _queued(cast, org, urgency="urgent", age=timedelta(minutes=119))
    critical_late = _queued(cast, org, urgency="critical", age=timedelta(minutes=31))
    normal_in_time = _queued(cast, org, urgency="normal", age=timedelta(hours=23))

    assert requests_escalate_overdue() == 2

    statuses = dict(ServiceRequest.objects.values_list("id", "status"))
    assert statuses == {
        urgent_late.id: S.ESCALATED,
        urgent_in_time.id: S.QUEUED,
        critical_late.id: S.ESCALATED,
        normal_in_time.id: S.QUEUED,
    }
    assert event_rows(urgent_late, to_status=S.ESCALATED) == [(S.QUEUED, S.ESCALATED, None, "超时未派出，已上报中心")]
    assert sorted(Notification.objects.filter(kind="escalated").values_list("recipient_id", "request_id")) == sorted(
        [(cast.dispatcher.id, urgent_late.id), (cast.dispatcher.id, critical_late.id)]
    )


def test_escalation_runs_once_and_leaves_requests_out_with_volunteers_alone(cast, org, sla):
    late = _queued(cast, org, urgency="critical", age=timedelta(hours=5))
    out = _queued(cast, org, urgency="critical", age=timedelta(hours=5))
    ServiceRequest.objects.filter(id=out.id).update(status=S.OFFERED)

    assert requests_escalate_overdue() == 1
    assert requests_escalate_overdue() == 0
    assert ServiceRequest.objects.get(id=out.id).status == S.OFFERED
    assert RequestEvent.objects.filter(request=late, to_status=S.ESCALATED).count() == 1


def test_the_centre_dispatches_an_escalated_request(cast, org, api, sla):
    late = _queued(cast, org, urgency="critical", age=timedelta(hours=1))
    requests_escalate_overdue()

    response = api(cast.dispatcher).post(
        f"/api/v1/requests/{late.id}/dispatch/", {"volunteer_ids": [cast.volunteer.id]}, format="json"
    )
    assert response.status_code == 201
    assert ServiceRequest.objects.get(id=late.id).status == S.OFFERED
    assert list(RequestEvent.objects.filter(request=late).values_list("from_status", "to_status"))[-1] == (
        S.ESCALATED,
        S.OFFERED,
    )
