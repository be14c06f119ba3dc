"""Two workers advancing the same request at the same instant, on PostgreSQL's row locks: one
wave goes out, never two, and no volunteer is offered the request twice."""

import threading

import pytest
from django.db import connections

from apps.dispatch.models import Offer
from apps.matching.models import MatchState, MatchWave
from apps.matching.services import matching_advance
from tests.matching.test_auto_waves import add_volunteers, queued_auto_request, story

pytestmark = pytest.mark.django_db(transaction=True)


def _race(request_id: int, workers: int) -> list[BaseException]:
    barrier = threading.Barrier(workers)
    errors: list[BaseException] = []

    def advance() -> None:
        try:
            barrier.wait(timeout=10)
            matching_advance(request_id=request_id)
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=advance) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


@pytest.mark.parametrize("workers", [2, 8])
def test_workers_advancing_one_request_at_once_send_one_wave(require_postgres, cast, org, settings, workers):
    settings.MATCHING_WAVE_FACTOR = 3
    add_volunteers(org, 12)
    request = queued_auto_request(cast, org, needed=2)

    assert _race(request.id, workers) == []

    assert list(MatchWave.objects.filter(request=request).values_list("number", "offered")) == [(1, 6)]
    offers = list(Offer.objects.filter(request=request).values_list("volunteer_id", "wave"))
    assert len(offers) == 6
    assert len({volunteer for volunteer, _ in offers}) == 6
    assert {wave for _, wave in offers} == {1}
    assert MatchState.objects.get(request=request).waves_sent == 1
    assert [e[2] for e in story(request)].count("wave_sent") == 1
