"""Reach: on their request's page the resident sees who holds it, when they come, and a button
that calls them — the volunteer's own phone only when the volunteer agreed, else the hotline of
the station that owns the request (its own, or its office's, or the centre's). Nobody else sees
the volunteer's number: not another resident, not staff."""

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.core.templatetags.civic import service_window
from apps.dispatch.models import Offer
from apps.dispatch.services import dispatch_directed, offer_accept, offer_check_in, offer_complete, offer_depart
from apps.organisation.models import OrgNode
from apps.service_requests.models import ServiceRequest
from apps.service_requests.services import RequestInput, request_review, request_submit
from apps.workflow.selectors import request_detail_context
from tests.conftest import Cast

pytestmark = pytest.mark.django_db

CENTRE_HOTLINE, OFFICE_A_HOTLINE = "0312-3862345", "0312-3861234"
CONTACT_PHONE = "13912345678"


@dataclass
class Reach:
    cast: Cast
    org: dict
    request: ServiceRequest
    offer: Offer | None = None

    @property
    def page(self) -> str:
        return f"/r/requests/{self.request.id}/"


def hotlines(org: dict) -> None:
    """The centre and office A have a line; station A1, which owns the request, has none."""
    OrgNode.objects.filter(id=org["centre"].id).update(hotline=CENTRE_HOTLINE)
    OrgNode.objects.filter(id=org["office_a"].id).update(hotline=OFFICE_A_HOTLINE)


def submitted(cast: Cast, org: dict, *, window: bool = False) -> Reach:
    start = None
    if window:
        tomorrow = timezone.localtime() + timedelta(days=1)
        start = tomorrow.replace(hour=9, minute=0, second=0, microsecond=0)
    request = request_submit(
        data=RequestInput(
            category=org["category"],
            title="帮忙修理漏水的水龙头",
            description="厨房水龙头一直滴水。",
            village=org["village_a1"],
            address="太平庄村东街12号",
            contact_name="王秀兰",
            contact_phone=CONTACT_PHONE,
            urgency="normal",
            window_start=start,
            window_end=start + timedelta(hours=2) if start else None,
        ),
        requester=cast.resident,
        entered_by=cast.resident,
    )
    return Reach(cast=cast, org=org, request=request)


def accepted(cast: Cast, org: dict, *, window: bool = False) -> Reach:
    reach = submitted(cast, org, window=window)
    request_review(request=reach.request, actor=cast.staff_a, accept=True)
    (offer,) = dispatch_directed(request=reach.request, actor=cast.staff_a, volunteers=[cast.volunteer])
    reach.offer = offer_accept(offer=offer, volunteer=cast.volunteer)
    return reach


def opt_in(client, cast: Cast, org: dict) -> None:
    """The volunteer ticks the consent on their own page, as they would."""
    client.force_login(cast.volunteer.user)
    response = client.post(
        "/v/profile/",
        {
            "village": str(org["village_a1"].id),
            "service_radius_km": "5",
            "categories": [str(org["category"].id)],
            "availability": ["sat_morning"],
            "share_phone_with_residents": "on",
        },
    )
    assert (response.status_code, response["Location"]) == (302, "/v/profile/")
    client.logout()


def call_volunteer_button(cast: Cast) -> str:
    phone = cast.volunteer.user.phone
    return f'<a class="button primary wide call" href="tel:{phone}">打电话给志愿者 张*明：{phone}</a>'


HOTLINE_CALL = f'href="tel:{OFFICE_A_HOTLINE}">拨打服务站热线 {OFFICE_A_HOTLINE}</a>'
HOTLINE_BUTTON = f'<a class="button primary wide call" {HOTLINE_CALL}'  # a volunteer's button
HOTLINE_APART = f'<a class="button wide call" {HOTLINE_CALL}'  # the line of its own


def resident_page(client, reach: Reach) -> str:
    client.force_login(reach.cast.resident)
    response = client.get(reach.page)
    assert response.status_code == 200
    return response.content.decode()


def test_before_any_volunteer_the_page_offers_the_hotline_of_the_stations_office(client, cast, org):
    hotlines(org)
    html = resident_page(client, submitted(cast, org))
    assert '<p class="hotline">有疑问请拨打服务站热线：</p>' in html
    assert HOTLINE_APART in html
    assert html.count("tel:") == 1


def test_with_no_hotline_anywhere_and_no_volunteer_there_is_nothing_to_call(client, cast, org):
    html = resident_page(client, submitted(cast, org))
    assert "联系服务人员" not in html
    assert "tel:" not in html


def test_a_volunteer_who_did_not_opt_in_is_reached_through_the_hotline(client, cast, org):
    hotlines(org)
    reach = accepted(cast, org)
    html = resident_page(client, reach)
    number = cast.volunteer.volunteer_number
    assert f'<p><strong>张*明</strong>（{number}） <span class="status">已接单</span></p>' in html
    assert '<p class="meta">服务时间：尽快</p>' in html
    assert HOTLINE_BUTTON in html
    assert HOTLINE_APART not in html  # the volunteer's button calls it already
    assert cast.volunteer.user.phone not in html
    assert html.count("tel:") == 1


def test_after_the_volunteer_opts_in_the_resident_calls_them_and_still_sees_the_hotline(client, cast, org):
    hotlines(org)
    reach = accepted(cast, org, window=True)
    opt_in(client, cast, org)
    html = resident_page(client, reach)
    assert call_volunteer_button(cast) in html
    assert f'<p class="meta">服务时间：{service_window(reach.request)}</p>' in html
    assert "09:00–11:00" in service_window(reach.request)
    assert '<p class="hotline">对服务有疑问，也可以打给服务站：</p>' in html
    assert HOTLINE_APART in html
    assert HOTLINE_BUTTON not in html


def test_the_station_falls_back_to_the_centres_line(client, cast, org):
    OrgNode.objects.filter(id=org["centre"].id).update(hotline=CENTRE_HOTLINE)
    html = resident_page(client, accepted(cast, org))
    expected = f'<a class="button primary wide call" href="tel:{CENTRE_HOTLINE}">拨打服务站热线 {CENTRE_HOTLINE}</a>'
    assert expected in html


def test_on_the_way_the_page_says_when_the_volunteer_arrives(client, cast, org):
    hotlines(org)
    reach = accepted(cast, org)
    assert reach.offer is not None
    offer = offer_depart(offer=reach.offer, volunteer=cast.volunteer, eta_minutes=25)
    assert offer.departed_at is not None
    arrives = timezone.localtime(offer.departed_at + timedelta(minutes=25))
    html = resident_page(client, reach)
    assert '<span class="status">已出发</span>' in html
    assert f'<p class="eta"><strong>预计 {arrives:%H:%M} 到达</strong></p>' in html


def test_once_the_service_is_done_the_volunteers_phone_is_gone(client, cast, org):
    hotlines(org)
    reach = accepted(cast, org)
    opt_in(client, cast, org)
    assert call_volunteer_button(cast) in resident_page(client, reach)
    assert reach.offer is not None
    offer_check_in(offer=reach.offer, volunteer=cast.volunteer)
    offer_complete(offer=reach.offer, volunteer=cast.volunteer, report="已修好")

    html = resident_page(client, reach)
    assert cast.volunteer.user.phone not in html
    assert '<p class="hotline">有疑问请拨打服务站热线：</p>' in html
    assert HOTLINE_APART in html


def test_a_cancelled_request_shows_the_volunteers_phone_no_more(client, cast, org):
    hotlines(org)
    reach = accepted(cast, org)
    opt_in(client, cast, org)
    client.force_login(cast.resident)
    response = client.post(f"/r/requests/{reach.request.id}/cancel/", {"reason": "已经修好了"})
    assert response.status_code == 302
    assert ServiceRequest.objects.get(id=reach.request.id).status == "cancelled"

    html = resident_page(client, reach)
    assert cast.volunteer.user.phone not in html
    assert HOTLINE_APART in html


def test_another_resident_never_sees_the_volunteers_phone(client, api, cast, org):
    hotlines(org)
    reach = accepted(cast, org)
    opt_in(client, cast, org)
    client.force_login(cast.other_resident)
    response = client.get(reach.page)
    assert response.status_code == 404
    assert cast.volunteer.user.phone not in response.content.decode()
    response = api(cast.other_resident).get(f"/api/v1/requests/{reach.request.id}/")
    assert response.status_code == 404
    assert cast.volunteer.user.phone not in response.content.decode()


def test_staff_never_see_the_volunteers_phone_they_were_not_given(client, api, cast, org):
    hotlines(org)
    reach = accepted(cast, org)
    opt_in(client, cast, org)
    client.force_login(cast.staff_a)
    response = client.get(f"/s/requests/{reach.request.id}/")
    assert response.status_code == 200
    assert cast.volunteer.user.phone not in response.content.decode()

    response = api(cast.staff_a).get(f"/api/v1/requests/{reach.request.id}/")
    assert response.status_code == 200
    assert cast.volunteer.user.phone not in response.content.decode()
    (volunteer,) = response.json()["reach"]["volunteers"]
    assert (volunteer["call_number"], volunteer["calls_volunteer"]) == (OFFICE_A_HOTLINE, False)


def test_the_requesters_api_answer_carries_the_same_reach(client, api, cast, org):
    hotlines(org)
    reach = accepted(cast, org)
    assert reach.offer is not None
    client_api = api(cast.resident)
    body = client_api.get(f"/api/v1/requests/{reach.request.id}/").json()
    number = cast.volunteer.volunteer_number
    volunteer = {
        "volunteer_number": number,
        "name": "张*明",
        "status": "accepted",
        "status_display": "已接单",
        "expected_arrival_at": None,
        "call_number": OFFICE_A_HOTLINE,
        "calls_volunteer": False,
    }
    assert body["reach"] == {"hotline": OFFICE_A_HOTLINE, "volunteers": [volunteer]}

    opt_in(client, cast, org)
    offer = offer_depart(offer=reach.offer, volunteer=cast.volunteer, eta_minutes=25)
    assert offer.departed_at is not None
    arrives = timezone.localtime(offer.departed_at + timedelta(minutes=25)).isoformat()
    body = client_api.get(f"/api/v1/requests/{reach.request.id}/").json()
    assert body["reach"] == {
        "hotline": OFFICE_A_HOTLINE,
        "volunteers": [
            {
                **volunteer,
                "status": "on_the_way",
                "status_display": "已出发",
                "expected_arrival_at": arrives,
                "call_number": cast.volunteer.user.phone,
                "calls_volunteer": True,
            }
        ],
    }


def test_the_reach_costs_one_query_and_only_when_read(cast, org, django_assert_num_queries):
    hotlines(org)
    reach = accepted(cast, org)
    request = ServiceRequest.objects.select_related("station").get(id=reach.request.id)
    context = request_detail_context(request=request)
    with django_assert_num_queries(1):  # the station's nearest ancestor with a hotline
        assert [v.call_number for v in context["reach"].volunteers] == [OFFICE_A_HOTLINE]
        assert context["reach"].hotline == OFFICE_A_HOTLINE
    OrgNode.objects.filter(id=org["station_a1"].id).update(hotline="0312-3867777")
    request = ServiceRequest.objects.select_related("station").get(id=reach.request.id)
    context = request_detail_context(request=request)
    with django_assert_num_queries(0):  # the station has its own
        assert context["reach"].hotline == "0312-3867777"


def test_the_staff_page_links_the_contact_phone(client, cast, org):
    reach = submitted(cast, org)
    client.force_login(cast.staff_a)
    html = client.get(f"/s/requests/{reach.request.id}/").content.decode()
    assert f'联系人：王秀兰 <a href="tel:{CONTACT_PHONE}">{CONTACT_PHONE}</a></p>' in html


def test_the_login_page_gives_the_centres_hotline(client, org):
    assert "服务热线" not in client.get("/login/").content.decode()
    hotlines(org)
    html = client.get("/login/").content.decode()
    line = f'<p class="hotline">不会用手机？请拨打服务热线 <a href="tel:{CENTRE_HOTLINE}">{CENTRE_HOTLINE}</a></p>'
    assert line in html


def test_the_volunteer_opts_in_and_out_through_the_api_too(api, cast, org):
    hotlines(org)
    reach = accepted(cast, org)
    volunteer_api, resident_api = api(cast.volunteer.user), api(cast.resident)

    def calls() -> tuple[str, bool]:
        (volunteer,) = resident_api.get(f"/api/v1/requests/{reach.request.id}/").json()["reach"]["volunteers"]
        return volunteer["call_number"], volunteer["calls_volunteer"]

    assert volunteer_api.get("/api/v1/volunteer/profile/").json()["share_phone_with_residents"] is False
    response = volunteer_api.patch("/api/v1/volunteer/profile/", {"share_phone_with_residents": True}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["share_phone_with_residents"] is True
    assert calls() == (cast.volunteer.user.phone, True)

    # A change of something else leaves the consent as it is; only an explicit false takes it back.
    response = volunteer_api.patch("/api/v1/volunteer/profile/", {"service_radius_km": 8}, format="json")
    assert (response.status_code, response.json()["share_phone_with_residents"]) == (200, True)
    response = volunteer_api.patch("/api/v1/volunteer/profile/", {"share_phone_with_residents": False}, format="json")
    assert (response.status_code, response.json()["share_phone_with_residents"]) == (200, False)
    assert calls() == (OFFICE_A_HOTLINE, False)
