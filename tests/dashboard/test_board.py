"""The live board: what waits for a person, its SLA state as time passes, scoped to the viewer."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.dashboard.board import BoardFilter, Sla, board, sla_state
from apps.dashboard.facts import facts_refresh
from apps.dispatch.services import dispatch_directed, offer_accept
from apps.service_requests.models import ServiceRequest
from apps.service_requests.services import request_review
from tests.service_requests.factories import submit_request

pytestmark = pytest.mark.django_db


def test_sla_turns_amber_at_half_its_limit_and_red_at_it(settings) -> None:
    settings.ESCALATE_AFTER_MINUTES = {"normal": 1440, "urgent": 120, "critical": 30}
    assert sla_state(waited=timedelta(minutes=59), urgency="urgent") == Sla.GREEN
    assert sla_state(waited=timedelta(minutes=60), urgency="urgent") == Sla.AMBER
    assert sla_state(waited=timedelta(minutes=119, seconds=59), urgency="urgent") == Sla.AMBER
    assert sla_state(waited=timedelta(minutes=120), urgency="urgent") == Sla.RED
    assert sla_state(waited=timedelta(minutes=14), urgency="critical") == Sla.GREEN
    assert sla_state(waited=timedelta(minutes=15), urgency="critical") == Sla.AMBER
    assert sla_state(waited=timedelta(hours=23), urgency="normal") == Sla.AMBER


def test_board_of_the_centre_and_of_a_township(cast, org) -> None:
    a_waiting = submit_request(
        requester=cast.resident, category=org["category"], village=org["village_a1"], urgency="urgent"
    )
    a_out = submit_request(requester=cast.resident, category=org["category"], village=org["village_a2"])
    request_review(request=a_out, actor=cast.staff_a, accept=True)
    (offer,) = dispatch_directed(
        request=ServiceRequest.objects.get(id=a_out.id), actor=cast.staff_a, volunteers=[cast.volunteer]
    )
    b_waiting = submit_request(requester=cast.resident, category=org["other_category"], village=org["village_b1"])
    ServiceRequest.objects.filter(id=a_waiting.id).update(created_at=timezone.now() - timedelta(minutes=70))
    ServiceRequest.objects.filter(id=b_waiting.id).update(created_at=timezone.now() - timedelta(days=2))
    facts_refresh()

    city = board(user=cast.dispatcher, flt=BoardFilter())
    assert {k: v for k, v in city.counts.items() if v} == {"submitted": 2, "offered": 1}
    assert [(row.request.id, row.sla, row.why) for row in city.waiting] == [
        (b_waiting.id, Sla.RED, "待审核"),
        (a_waiting.id, Sla.AMBER, "待审核"),
    ]
    assert city.sla_totals == {Sla.GREEN: 0, Sla.AMBER: 1, Sla.RED: 1}
    assert (city.offers_total, [o.id for o in city.offers]) == (1, [offer.id])
    assert city.on_duty_total == 0

    township_a = board(user=cast.staff_a, flt=BoardFilter())
    assert [row.request.id for row in township_a.waiting] == [a_waiting.id]
    assert {k: v for k, v in township_a.counts.items() if v} == {"submitted": 1, "offered": 1}
    township_b = board(user=cast.staff_b, flt=BoardFilter())
    assert [row.request.id for row in township_b.waiting] == [b_waiting.id]
    assert township_b.offers_total == 0
    # The centre narrowed to township B sees what B's office sees; a filter never widens an area.
    assert [
        r.request.id for r in board(user=cast.dispatcher, flt=BoardFilter(township_id=org["township_b"].id)).waiting
    ] == [b_waiting.id]
    assert board(user=cast.staff_a, flt=BoardFilter(township_id=org["township_b"].id)).waiting == []
    assert [r.request.id for r in board(user=cast.dispatcher, flt=BoardFilter(urgency="urgent")).waiting] == [
        a_waiting.id
    ]

    offer_accept(offer=offer, volunteer=cast.volunteer)
    city = board(user=cast.dispatcher, flt=BoardFilter())
    assert (city.offers_total, city.on_duty_total, [o.volunteer_id for o in city.on_duty]) == (
        0,
        1,
        [cast.volunteer.id],
    )


def test_the_map_places_every_township_with_its_open_requests(cast, org) -> None:
    org["township_a"].latitude, org["township_a"].longitude = 39.49, 115.97
    org["township_a"].save()
    org["township_b"].latitude, org["township_b"].longitude = 39.40, 116.05
    org["township_b"].save()
    submit_request(requester=cast.resident, category=org["category"], village=org["village_a1"])
    dots = {d.name: d for d in board(user=cast.dispatcher, flt=BoardFilter()).townships}
    assert {name: d.open for name, d in dots.items()} == {"桃园街道": 1, "码头镇": 0}
    # West to east and north to south inside the 400 × 360 box with its 36-unit margin.
    assert (dots["桃园街道"].x, dots["桃园街道"].y) == (36.0, 36.0)
    assert (dots["码头镇"].x, dots["码头镇"].y) == (364.0, 324.0)
