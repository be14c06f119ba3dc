"""The whole core loop through the API, as the real roles."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from apps.dispatch.models import Offer, OfferStatus
from apps.notifications.models import Notification
from apps.service_requests.models import RequestEvent, ServiceRequest
from tests.service_requests.factories import request_payload
from tests.volunteers.factories import make_volunteer


def _events(request_id: int) -> list[tuple[str, str]]:
    return list(RequestEvent.objects.filter(request_id=request_id).values_list("from_status", "to_status"))


def _kinds(user) -> list[str]:
    return sorted(Notification.objects.filter(recipient=user).values_list("kind", flat=True))


def test_request_goes_through_the_whole_loop(cast, org, api):
    resident, staff = api(cast.resident), api(cast.staff_a)
    second = make_volunteer(township=org["township_a"], village=org["village_a2"], categories=[org["category"]])

    # 点单
    response = resident.post(
        "/api/v1/requests/", request_payload(category=org["category"], village=org["village_a1"]), format="json"
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    request_id = body["id"]
    assert body["status"] == "submitted"
    assert body["station"]["id"] == org["station_a1"].id
    assert _events(request_id) == [("", "submitted")]
    assert _kinds(cast.resident) == ["received"]
    assert _kinds(cast.staff_a) == ["new_request"]
    assert _kinds(cast.station_staff_a1) == ["new_request"]
    assert _kinds(cast.dispatcher) == []

    # 审核
    response = staff.post(f"/api/v1/requests/{request_id}/review/", {"decision": "accept"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "queued"
    assert _kinds(cast.resident) == ["queued", "received"]

    # 派单 to two volunteers for a one-volunteer request
    response = staff.post(
        f"/api/v1/requests/{request_id}/dispatch/", {"volunteer_ids": [cast.volunteer.id, second.id]}, format="json"
    )
    assert response.status_code == 201, response.json()
    offer_ids = {o["volunteer"]["id"]: o["id"] for o in response.json()}
    assert ServiceRequest.objects.get(id=request_id).status == "offered"
    assert _kinds(cast.volunteer.user) == ["offered"]
    assert _kinds(second.user) == ["offered"]

    # Before accepting, the volunteer sees neither phone nor address.
    offer = api(cast.volunteer).get(f"/api/v1/offers/{offer_ids[cast.volunteer.id]}/").json()
    assert "contact_phone" not in offer["request"] and "address" not in offer["request"]
    assert offer["request"]["contact_name"] == "王*兰"

    # 接单: one wins, the other gets 409
    response = api(cast.volunteer).post(f"/api/v1/offers/{offer_ids[cast.volunteer.id]}/accept/")
    assert response.status_code == 200, response.json()
    assert response.json()["request"]["contact_phone"] == "13912345678"
    assert response.json()["request"]["address"] == "太平庄村东街12号"
    response = api(second).post(f"/api/v1/offers/{offer_ids[second.id]}/accept/")
    assert response.status_code == 409
    assert response.json()["code"] == "offer_taken"
    assert Offer.objects.get(id=offer_ids[second.id]).status == OfferStatus.WITHDRAWN
    assert ServiceRequest.objects.get(id=request_id).status == "accepted"
    assert _kinds(cast.resident) == ["accepted", "queued", "received"]
    assert _kinds(second.user) == ["offer_closed", "offered"]

    # 服务: arrive, then complete two hours later
    assert api(cast.volunteer).post(f"/api/v1/offers/{offer_ids[cast.volunteer.id]}/arrive/").status_code == 200
    assert ServiceRequest.objects.get(id=request_id).status == "in_service"
    Offer.objects.filter(id=offer_ids[cast.volunteer.id]).update(
        checked_in_at=timezone.now() - timedelta(hours=2, minutes=10)
    )
    response = api(cast.volunteer).post(
        f"/api/v1/offers/{offer_ids[cast.volunteer.id]}/complete/", {"report": "已更换阀芯"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["hours"] == "2.0"
    assert Offer.objects.get(id=offer_ids[cast.volunteer.id]).hours == Decimal("2.0")
    assert ServiceRequest.objects.get(id=request_id).status == "completed"
    assert "please_rate" in _kinds(cast.resident)

    # 评单
    response = resident.post(
        f"/api/v1/requests/{request_id}/rate/",
        {"score": 5, "tags": ["friendly", "on_time"], "comment": "谢谢！"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    assert ServiceRequest.objects.get(id=request_id).status == "closed"
    assert resident.post(f"/api/v1/requests/{request_id}/rate/", {"score": 4}, format="json").status_code == 409

    assert _events(request_id) == [
        ("", "submitted"),
        ("submitted", "queued"),
        ("queued", "offered"),
        ("offered", "accepted"),
        ("accepted", "in_service"),
        ("in_service", "completed"),
        ("completed", "rated"),
        ("rated", "closed"),
    ]
    detail = resident.get(f"/api/v1/requests/{request_id}/").json()
    assert [e["to_status"] for e in detail["events"]][-1] == "closed"
    assert detail["rating"]["score"] == 5
    assert detail["volunteers"] == [
        {
            "volunteer_number": cast.volunteer.volunteer_number,
            "name": "张*明",
            "status": "completed",
            "status_display": "已完成",
            "departed_at": None,  # arrived without tapping 出发
            "eta_minutes": None,
            "expected_arrival_at": None,
            "hours": "2.0",
        }
    ]
