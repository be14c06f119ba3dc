from apps.accounts.models import User
from apps.organisation.models import Place, ServiceCategory
from apps.service_requests.models import RequestEvent, ServiceRequest
from apps.service_requests.services import RequestInput, request_submit


def request_payload(*, category: ServiceCategory, village: Place, **overrides: object) -> dict:
    """A valid API body for POST /api/v1/requests/."""
    payload = {
        "category": category.id,
        "title": "帮忙修理漏水的水龙头",
        "description": "厨房水龙头一直滴水，老两口拧不动。",
        "village": village.id,
        "address": "太平庄村东街12号",
        "contact_name": "王秀兰",
        "contact_phone": "13912345678",
        "urgency": "normal",
        "volunteers_needed": 1,
    }
    payload.update(overrides)
    return payload


def submit_request(
    *, requester: User, category: ServiceCategory, village: Place, volunteers_needed: int = 1, urgency: str = "normal"
) -> ServiceRequest:
    return request_submit(
        data=RequestInput(
            category=category,
            title="帮忙修理漏水的水龙头",
            description="厨房水龙头一直滴水，老两口拧不动。",
            village=village,
            address="太平庄村东街12号",
            contact_name="王秀兰",
            contact_phone="13912345678",
            urgency=urgency,
            volunteers_needed=volunteers_needed,
        ),
        requester=requester,
        entered_by=requester,
    )


def event_rows(request: ServiceRequest, *, to_status: str | None = None) -> list[tuple[str, str, int | None, str]]:
    """(from, to, actor id, reason as the active language shows it) of each event of ``request``."""
    events = RequestEvent.objects.filter(request=request).order_by("created_at", "id")
    if to_status is not None:
        events = events.filter(to_status=to_status)
    return [(e.from_status, e.to_status, e.actor_id, e.display_reason) for e in events]
