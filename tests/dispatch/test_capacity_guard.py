"""The guard that makes N places give exactly N acceptances, tested on its own.

The PostgreSQL race test shows the whole defence (the request lock, the guard and the CHECK
constraint) under real contention. Here the lock is out of play and the database would only
refuse the N+1th acceptance with an IntegrityError: the guard itself must refuse it first,
as the clean 409 a volunteer is shown."""

import pytest
from django.db import transaction

from apps.core.errors import Conflict
from apps.dispatch.services import dispatch_directed
from apps.service_requests.models import RequestEvent, ServiceRequest, Status
from apps.service_requests.services import request_record_acceptance, request_review
from tests.service_requests.factories import submit_request


@pytest.fixture
def offered(cast, org) -> ServiceRequest:
    request = submit_request(requester=cast.resident, category=org["category"], village=org["village_a1"])
    request_review(request=request, actor=cast.staff_a, accept=True)
    dispatch_directed(request=request, actor=cast.staff_a, volunteers=[cast.volunteer, cast.other_volunteer])
    return ServiceRequest.objects.get(id=request.id)


def test_an_acceptance_counts_while_places_remain(cast, offered) -> None:
    with transaction.atomic():
        request = request_record_acceptance(request_id=offered.id, actor=cast.volunteer.user)

    assert (request.volunteers_accepted, request.status) == (1, Status.ACCEPTED)


def test_the_guard_refuses_an_acceptance_once_every_place_is_taken(cast, offered) -> None:
    # The moment between a winner's increment and its status change, as a second accept on
    # another connection without the request lock would meet it: offered, and already full.
    ServiceRequest.objects.filter(id=offered.id).update(volunteers_accepted=1)
    events_before = RequestEvent.objects.filter(request=offered).count()

    with pytest.raises(Conflict) as excinfo, transaction.atomic():
        request_record_acceptance(request_id=offered.id, actor=cast.other_volunteer.user)

    assert (excinfo.value.code, str(excinfo.value.message)) == ("offer_taken", "手慢了，这个需求已经有志愿者接单了。")
    stored = ServiceRequest.objects.get(id=offered.id)
    assert (stored.volunteers_accepted, stored.status) == (1, Status.OFFERED)
    assert RequestEvent.objects.filter(request=offered).count() == events_before


def test_the_guard_refuses_an_acceptance_on_a_request_no_longer_offered(cast, offered) -> None:
    ServiceRequest.objects.filter(id=offered.id).update(status=Status.CANCELLED)

    with pytest.raises(Conflict) as excinfo, transaction.atomic():
        request_record_acceptance(request_id=offered.id, actor=cast.volunteer.user)

    assert excinfo.value.code == "offer_taken"
    assert ServiceRequest.objects.get(id=offered.id).volunteers_accepted == 0
