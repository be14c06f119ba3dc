"""The staff pages of the matching queue: the ranked candidates on a request's page (with their
reasons, search, filters and "more"), switching the dispatch mode, the queue at work on the
request, and the queue page's two groups — who may open or post each (exact status codes,
nothing leaked or changed), what bad input gets, and the queries they run."""

from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest
from django.contrib.messages import get_messages
from django.utils import timezone

from apps.dispatch.models import Offer, OfferStatus
from apps.matching.models import MatchState, MatchWave, NeedsPerson
from apps.organisation.models import DispatchMode
from apps.service_requests.models import ServiceRequest
from apps.service_requests.services import request_review
from tests.matching.staff_world import MANAGERS, ROLES, build_world, state
from tests.volunteers.factories import make_volunteer
from tests.workflow.scenario import TITLE, submit


@pytest.fixture
def world(cast, org) -> dict[str, Any]:
    return build_world(cast, org)


def log_in(client, cast, world, role: str):
    if role != "anonymous":
        person = world.get(role) or getattr(cast, role)
        client.force_login(getattr(person, "user", person))
    return client


def login_redirect(path: str) -> str:
    return "/login/?next=" + quote(path, safe="/")


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def row(volunteer) -> str:
    return f'name="volunteer_ids" value="{volunteer.id}"'


def more_volunteers(org, n: int) -> list:
    return [
        make_volunteer(township=org["township_a"], village=org["village_a1"], categories=[org["category"]])
        for _ in range(n)
    ]


# ---------------------------------------------------------------- permission matrix


@pytest.mark.parametrize("role", ROLES)
def test_the_request_page_shows_ranked_candidates_and_the_mode_to_its_staff_only(client, cast, world, role):
    url = f"/s/requests/{world['request'].id}/"
    response = log_in(client, cast, world, role).get(url)
    if role == "anonymous":
        assert (response.status_code, response["Location"]) == (302, login_redirect(url))
        return
    if role not in MANAGERS:
        assert response.status_code == 404
        assert TITLE not in response.content.decode()
        return
    assert response.status_code == 200
    html = response.content.decode()
    assert '<strong class="dispatch-mode">定向派单</strong>' in html
    assert 'action="/s/requests/{}/dispatch-mode/"'.format(world["request"].id) in html
    assert row(cast.volunteer) in html
    # The station sees its own village's volunteers only; the others of township A too.
    assert (row(cast.other_volunteer) in html) is (role != "station_staff_a1")
    assert "张*明" in html and "张小明" not in html
    # Only the teams of the staff member's area are offered.
    assert ("桃园志愿服务队" in html) is (role in {"staff_a", "dispatcher"})
    assert ("码头志愿服务队" in html) is (role == "dispatcher")


@pytest.mark.parametrize("role", ROLES)
def test_more_candidates_are_for_the_staff_of_the_request_only(client, cast, org, world, role):
    more_volunteers(org, 21)
    url = f"/s/requests/{world['request'].id}/candidates/?offset=20"
    response = log_in(client, cast, world, role).get(url)
    if role == "anonymous":
        assert (response.status_code, response["Location"]) == (302, login_redirect(url))
        return
    if role not in MANAGERS:
        assert response.status_code == 404
        return
    assert response.status_code == 200
    html = response.content.decode()
    # The station sees 22 volunteers of its village (1 + 21), the others 23: the rest after 20.
    expected_rows = 2 if role == "station_staff_a1" else 3
    assert html.count('name="volunteer_ids"') == expected_rows
    assert "<html" not in html  # rows to append, not a page


@pytest.mark.parametrize("role", ROLES)
def test_only_the_staff_of_the_request_switch_its_mode_on_the_page(client, cast, world, role):
    request = world["request"]
    url = f"/s/requests/{request.id}/dispatch-mode/"
    before = state()
    response = log_in(client, cast, world, role).post(url, {"mode": "auto"})
    if role == "anonymous":
        assert (response.status_code, response["Location"]) == (302, login_redirect(url))
    elif role not in MANAGERS:
        assert response.status_code == 404
    if role not in MANAGERS:
        assert state() == before
        return
    assert (response.status_code, response["Location"]) == (302, f"/s/requests/{request.id}/")
    assert messages_of(response) == ["派单方式已改为「自动派单」。"]
    assert ServiceRequest.objects.get(id=request.id).dispatch_mode == DispatchMode.AUTO


def test_staff_hand_a_request_to_a_team_of_their_area(client, cast, world):
    request = world["request"]
    client.force_login(cast.staff_a)
    response = client.post(f"/s/requests/{request.id}/dispatch-mode/", {"mode": "team", "team": world["team_a"].id})
    assert (response.status_code, response["Location"]) == (302, f"/s/requests/{request.id}/")
    assert messages_of(response) == ["派单方式已改为「服务队派单」。"]
    assert ServiceRequest.objects.get(id=request.id).dispatch_mode == DispatchMode.TEAM
    assert MatchState.objects.get(request=request).team == world["team_a"]
    html = client.get(f"/s/requests/{request.id}/").content.decode()
    assert '<strong class="dispatch-mode">服务队派单</strong> · 桃园志愿服务队' in html


def test_get_on_the_mode_switch_is_refused(client, cast, world):
    client.force_login(cast.staff_a)
    before = state()
    assert client.get(f"/s/requests/{world['request'].id}/dispatch-mode/?mode=auto").status_code == 405
    assert state() == before


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"mode": "nonsense"}, "选择一个有效的选项。 nonsense 不在可用的选项中。"),
        ({}, "该字段是必填项。"),
        ({"mode": "team"}, "服务队派单须选择服务队。"),
        ({"mode": "team", "team": "abc"}, "该服务队不存在、已停用或不在您的服务范围内。"),
        ({"mode": "team", "team": "team_b"}, "该服务队不存在、已停用或不在您的服务范围内。"),
    ],
    ids=["nonsense", "no-mode", "team-without-team", "text-team", "team-of-another-area"],
)
def test_a_bad_mode_switch_says_why_and_changes_nothing(client, cast, world, data, message):
    data = {key: world[value].id if value in ("team_a", "team_b") else value for key, value in data.items()}
    request = world["request"]
    client.force_login(cast.staff_a)
    before = state()
    response = client.post(f"/s/requests/{request.id}/dispatch-mode/", data)
    assert (response.status_code, response["Location"]) == (302, f"/s/requests/{request.id}/")
    assert messages_of(response) == [message]
    assert state() == before


def test_the_mode_of_a_request_not_yet_reviewed_stays(client, cast, org, world):
    submitted = submit(requester=cast.resident, category=org["category"], village=org["village_a1"])
    client.force_login(cast.staff_a)
    before = state()
    response = client.post(f"/s/requests/{submitted.id}/dispatch-mode/", {"mode": "auto"})
    assert (response.status_code, response["Location"]) == (302, f"/s/requests/{submitted.id}/")
    assert messages_of(response) == ["工单当前状态为「已提交」，不能派单。"]
    assert state() == before


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("offset=abc", "输入整数。"),
        ("offset=-1", "确保该值大于或等于0。"),
        ("search=" + "张" * 10_000, "确保该变量包含不超过 50 字符 (目前字符数 10000)。"),
        ("township=" + "9" * 40, "确保该值小于或等于9223372036854775807。"),
    ],
    ids=["text-offset", "negative-offset", "long-search", "huge-township"],
)
def test_bad_candidate_filters_are_a_400_fragment_and_the_page_still_shows(client, cast, world, query, message):
    request = world["request"]
    client.force_login(cast.staff_a)
    response = client.get(f"/s/requests/{request.id}/candidates/?{query}")
    assert response.status_code == 400
    assert message in response.content.decode()
    # On the page itself, the filter is shown with its error and the candidates without it.
    page = client.get(f"/s/requests/{request.id}/?{query}")
    assert page.status_code == 200
    html = page.content.decode()
    assert message in html
    assert row(cast.volunteer) in html and row(cast.other_volunteer) in html


# ---------------------------------------------------------------- what the page shows


def test_candidates_show_number_masked_name_score_and_reasons_and_page_by_twenty(client, cast, org, world):
    more_volunteers(org, 21)  # 23 candidates for township A
    request = world["request"]
    client.force_login(cast.staff_a)
    html = client.get(f"/s/requests/{request.id}/").content.decode()
    assert html.count('name="volunteer_ids"') == 20
    assert f'hx-get="/s/requests/{request.id}/candidates/?search=&amp;township=&amp;village=&amp;offset=20"' in html
    rest = client.get(f"/s/requests/{request.id}/candidates/?search=&township=&village=&offset=20").content.decode()
    assert rest.count('name="volunteer_ids"') == 3
    assert "hx-get" not in rest  # no more after these


def test_search_finds_a_volunteer_by_number(client, cast, world):
    client.force_login(cast.staff_a)
    number = cast.other_volunteer.volunteer_number
    html = client.get(f"/s/requests/{world['request'].id}/", {"search": number}).content.decode()
    assert row(cast.other_volunteer) in html and row(cast.volunteer) not in html
    assert f'value="{number}"' in html  # the search box keeps it


def test_the_queue_at_work_shows_waves_outcomes_and_the_next_wave(client, cast, world):
    request = world["request"]
    now = timezone.now()
    ServiceRequest.objects.filter(id=request.id).update(dispatch_mode=DispatchMode.AUTO)
    MatchState.objects.create(request=request, waves_sent=1, next_wave_at=now + timedelta(minutes=30))
    MatchWave.objects.create(request=request, number=1, offered=2, due_at=now + timedelta(minutes=30))
    for volunteer, status in ((cast.volunteer, OfferStatus.DECLINED), (cast.other_volunteer, OfferStatus.EXPIRED)):
        Offer.objects.create(
            request=request,
            volunteer=volunteer,
            status=status,
            offered_by=None,
            via=DispatchMode.AUTO,
            wave=1,
            expires_at=now + timedelta(minutes=30),
        )
    client.force_login(cast.staff_a)
    html = client.get(f"/s/requests/{request.id}/").content.decode()
    assert "第1轮 · 邀请2人" in html
    assert f"已婉拒：张*明（{cast.volunteer.volunteer_number}）" in html
    assert f"未答复已过期：刘*（{cast.other_volunteer.volunteer_number}）" in html
    assert "下一轮：" in html
    MatchState.objects.filter(request=request).update(needs_person=NeedsPerson.NO_CANDIDATES)
    html = client.get(f"/s/requests/{request.id}/").content.decode()
    assert "需人工处理：无合适志愿者" in html and "下一轮：" not in html


def test_the_queue_page_groups_what_needs_a_person_apart_from_what_the_queue_works(client, cast, org, world):
    directed = world["request"]
    auto = submit(requester=cast.resident, category=org["category"], village=org["village_a1"], title="自动派单的工单")
    request_review(request=auto, actor=cast.staff_a, accept=True)
    ServiceRequest.objects.filter(id=auto.id).update(dispatch_mode=DispatchMode.AUTO)
    stuck = submit(requester=cast.resident, category=org["category"], village=org["village_a1"], title="无人可派的工单")
    request_review(request=stuck, actor=cast.staff_a, accept=True)
    ServiceRequest.objects.filter(id=stuck.id).update(dispatch_mode=DispatchMode.BROADCAST)
    MatchState.objects.create(request=stuck, needs_person=NeedsPerson.NO_CANDIDATES)
    client.force_login(cast.staff_a)
    html = client.get("/s/queue/").content.decode()
    assert "需人工处理 2 件 · 队列处理中 1 件" in html
    needs_person, working = html.split('id="queue-working"')
    assert f'href="/s/requests/{directed.id}/"' in needs_person and f'href="/s/requests/{stuck.id}/"' in needs_person
    assert f'href="/s/requests/{auto.id}/"' in working and f'href="/s/requests/{auto.id}/"' not in needs_person
    assert needs_person.count('<span class="tag u-urgent queue-stop">无合适志愿者</span>') == 1
    assert "queue-stop" not in working


@pytest.mark.parametrize("rows", [1, 5])
def test_more_candidates_run_a_fixed_number_of_queries(client, cast, org, world, django_assert_num_queries, rows):
    more_volunteers(org, 20 + rows)  # after the first 20: the other volunteer and ``rows`` more
    client.force_login(cast.staff_a)
    url = f"/s/requests/{world['request'].id}/candidates/?offset=20"
    assert client.get(url).status_code == 200  # served once before it is measured
    with django_assert_num_queries(6):
        # 1. the session
        # 2. the user
        # 3. the user's node (a township office)
        # 4. the request, among those of the township
        # 5. the ranked page of candidates (and one more, to know if more follow), in one query
        # 6. the history of the candidates on the page, for their reasons (one grouped query)
        response = client.get(url)
    assert response.content.decode().count('name="volunteer_ids"') == rows + 2
