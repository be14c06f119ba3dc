"""The staff pages of 回访 over the cast: exact statuses, nothing leaked, nothing changed by a refusal."""

import re
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from apps.ratings.models import FollowUp, FollowUpCall, FollowUpReason, FollowUpStatus
from apps.ratings.services import follow_up_record_call
from tests.ratings.test_follow_ups import (
    ACTORS,
    CONTACT_PHONE,
    SEES,
    TITLE_A,
    TITLE_B,
    TITLE_C,
    World,
    build_world,
    case_of,
    state,
)

LIST_URL = "/s/followups/"
SAMPLE_URL = "/s/followups/sample/"
# Pages answer a signed-in non-staff user 404, as the other staff pages; anonymous users go to log in.
PAGE_REFUSED = {"resident": 404, "volunteer": 404}


@pytest.fixture
def world(cast, org) -> World:
    return build_world(cast, org)


def client_for(world: World, actor: str) -> Client:
    client = Client()
    user = world.people[actor]
    if user is not None:
        client.force_login(user)
    return client


def detail_url(case: FollowUp) -> str:
    return f"/s/followups/{case.id}/"


def assert_login_redirect(response: Any, url: str) -> None:
    assert (response.status_code, response["Location"]) == (302, f"/login/?next={url}")


@pytest.mark.parametrize("actor", ACTORS)
def test_the_list_page_shows_the_cases_of_the_area(world, actor):
    response = client_for(world, actor).get(LIST_URL)

    if actor == "anonymous":
        assert_login_redirect(response, LIST_URL)
        return
    if actor in PAGE_REFUSED:
        assert response.status_code == 404
        assert TITLE_A not in response.content.decode()
        return
    assert response.status_code == 200
    content = response.content.decode()
    assert (TITLE_A in content) is ("a" in SEES[actor])
    assert (TITLE_B in content) is ("b" in SEES[actor])
    assert CONTACT_PHONE not in content and "王秀兰" not in content
    assert '<form method="post" action="/s/followups/sample/">' in content


def test_a_row_shows_reason_station_deadline_and_score_and_overdue_first(world):
    soon = timezone.now() + timedelta(days=1)
    FollowUp.objects.filter(id=world.case_a.id).update(due_at=soon)
    FollowUp.objects.filter(id=world.case_b.id).update(due_at=timezone.now() - timedelta(hours=2))

    content = client_for(world, "dispatcher").get(LIST_URL).content.decode()

    row_a = content[content.index(f'id="follow-up-{world.case_a.id}"') :]
    row_a = row_a[: row_a.index("</tr>")]
    assert "评分较低" in row_a and "太平庄村新时代文明实践站" in row_a and "1 / 5" in row_a
    assert f"<td>{timezone.localtime(soon):%m-%d %H:%M}</td>" in row_a and "已超期" not in row_a
    row_b = content[content.index(f'id="follow-up-{world.case_b.id}"') :]
    row_b = row_b[: row_b.index("</tr>")]
    assert "投诉标签" in row_b and "码头村新时代文明实践站" in row_b and "4 / 5" in row_b and "已超期" in row_b
    # The overdue case comes first.
    assert content.index(f"follow-up-{world.case_b.id}") < content.index(f"follow-up-{world.case_a.id}")


def test_the_tabs_split_open_escalated_and_closed(world):
    FollowUp.objects.filter(id=world.case_b.id).update(escalated_at=timezone.now())
    follow_up_record_call(
        case=world.case_a, actor=world.cast.staff_a, reached=True, notes="", outcome="resolved", close=True
    )
    client = client_for(world, "dispatcher")

    def shown(tab: str) -> set[int]:
        content = client.get(f"{LIST_URL}?tab={tab}").content.decode()
        return {case.id for case in (world.case_a, world.case_b) if f'id="follow-up-{case.id}"' in content}

    assert shown("open") == {world.case_b.id}
    assert shown("escalated") == {world.case_b.id}
    assert shown("closed") == {world.case_a.id}
    assert shown("nonsense") == {world.case_b.id}
    assert "问题已解决" in client.get(f"{LIST_URL}?tab=closed").content.decode()


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("key", ["a", "b"])
def test_the_case_page_is_for_the_staff_of_its_area(world, actor, key):
    case = case_of(world, key)

    response = client_for(world, actor).get(detail_url(case))

    if actor == "anonymous":
        assert_login_redirect(response, detail_url(case))
        return
    if actor in PAGE_REFUSED or key not in SEES[actor]:
        assert response.status_code == PAGE_REFUSED.get(actor, 404)
        content = response.content.decode()
        assert TITLE_A not in content and TITLE_B not in content and CONTACT_PHONE not in content
        return
    assert response.status_code == 200
    content = response.content.decode()
    # The number to call, for the staff of the area; the resident by masked name.
    assert f'<a href="tel:{CONTACT_PHONE}">{CONTACT_PHONE}</a>' in content
    assert ("王*兰" if key == "a" else "周*国") in content
    assert "王秀兰" not in content and "周建国" not in content


def test_the_case_page_shows_the_rating_the_calls_and_an_accessible_form(world):
    follow_up_record_call(case=world.case_a, actor=world.cast.staff_a, reached=False, notes="无人接听")

    content = client_for(world, "station_staff_a1").get(detail_url(world.case_a)).content.decode()

    assert "1 / 5 星" in content and "志愿者来晚了" in content
    assert "无人接听" in content and "钱*长" in content and "未联系上" in content
    assert "<fieldset><legend>是否联系上群众</legend>" in content
    assert '<label for="id_notes">回访记录</label>' in content
    assert '<label for="id_outcome">回访结果（办结时必选）</label>' in content
    # A lone checkbox sits inside its label: the whole row is the target.
    label = re.search(r"<label class=\"check\" for=\"id_close\">.*?</label>", content)
    assert label is not None and label.group(0) == (
        '<label class="check" for="id_close">'
        '<input type="checkbox" name="close" aria-describedby="id_close_helptext" id="id_close">办结</label>'
    ), label


def test_a_complaint_shows_its_tags_in_words(world):
    content = client_for(world, "staff_b").get(detail_url(world.case_b)).content.decode()

    assert '<span class="tag">迟到</span>' in content and "4 / 5 星" in content


def test_recording_a_call_from_the_page(world):
    client = client_for(world, "station_staff_a1")

    response = client.post(detail_url(world.case_a), {"reached": "no", "notes": "无人接听"})

    assert (response.status_code, response["Location"]) == (302, detail_url(world.case_a))
    assert list(FollowUpCall.objects.values_list("case_id", "reached", "notes")) == [
        (world.case_a.id, False, "无人接听")
    ]
    assert FollowUp.objects.get(id=world.case_a.id).status == FollowUpStatus.OPEN
    assert "回访记录已保存。" in client.get(detail_url(world.case_a)).content.decode()


def test_closing_from_the_page(world):
    client = client_for(world, "staff_a")

    response = client.post(
        detail_url(world.case_a), {"reached": "yes", "notes": "已解决", "outcome": "resolved", "close": "on"}
    )

    assert response.status_code == 302
    stored = FollowUp.objects.get(id=world.case_a.id)
    assert (stored.status, stored.outcome, stored.reached, stored.closed_by_id) == (
        FollowUpStatus.CLOSED,
        "resolved",
        True,
        world.cast.staff_a.id,
    )
    page = client.get(detail_url(world.case_a)).content.decode()
    assert "回访已办结，结果已告知群众。" in page and "记录回访" not in page


@pytest.mark.parametrize("actor", ACTORS)
def test_recording_a_call_is_refused_outside_the_area(world, actor):
    before = state()

    response = client_for(world, actor).post(detail_url(world.case_a), {"reached": "no", "notes": "无人接听"})

    if actor == "anonymous":
        assert_login_redirect(response, detail_url(world.case_a))
    elif actor in PAGE_REFUSED or "a" not in SEES[actor]:
        assert response.status_code == PAGE_REFUSED.get(actor, 404)
    else:
        assert response.status_code == 302
        return
    assert state() == before


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"notes": "无人接听"}, "请选择是否联系上群众。"),
        ({"reached": "maybe"}, "选择一个有效的选项。 maybe 不在可用的选项中。"),
        ({"reached": "yes", "outcome": "bogus", "close": "on"}, "选择一个有效的选项。 bogus 不在可用的选项中。"),
        ({"reached": "yes", "notes": "好" * 501}, "确保该变量包含不超过 500 字符 (目前字符数 501)。"),
        ({"reached": "yes", "close": "on"}, "办结回访时必须选择回访结果。"),
        ({"reached": "yes", "outcome": "resolved"}, "选择回访结果即表示办结，请同时勾选“办结”。"),
    ],
    ids=[
        "reached-missing",
        "reached-unknown",
        "unknown-outcome",
        "notes-too-long",
        "close-without-outcome",
        "outcome-without-close",
    ],
)
def test_a_call_with_bad_input_is_a_400_with_the_error_shown(world, data, message):
    before = state()

    response = client_for(world, "staff_a").post(detail_url(world.case_a), data)

    assert response.status_code == 400
    content = response.content.decode()
    assert message in content
    assert 'role="alert"' in content
    assert state() == before


def test_a_call_on_a_closed_case_from_the_page_is_a_409(world):
    follow_up_record_call(
        case=world.case_a, actor=world.cast.staff_a, reached=True, notes="", outcome="resolved", close=True
    )
    before = state()

    response = client_for(world, "staff_a").post(detail_url(world.case_a), {"reached": "yes", "notes": "再问一次"})

    assert response.status_code == 409
    assert "该回访工单已办结，不能再记录回访。" in response.content.decode()
    assert state() == before


@pytest.mark.parametrize("actor", ACTORS)
def test_sampling_from_the_page_is_for_staff(world, actor):
    before = state()

    response = client_for(world, actor).post(SAMPLE_URL, {"count": "5"})

    if actor == "anonymous":
        assert_login_redirect(response, SAMPLE_URL)
    elif actor in PAGE_REFUSED:
        assert response.status_code == 404
    else:
        assert (response.status_code, response["Location"]) == (302, LIST_URL)
        sampled = set(FollowUp.objects.filter(reason=FollowUpReason.ROUTINE).values_list("request_id", flat=True))
        assert sampled == ({world.spare.id} if "a" in SEES[actor] else set())
        return
    assert state() == before


def test_a_sample_shows_what_it_picked(world):
    client = client_for(world, "staff_a")

    client.post(SAMPLE_URL, {"count": "5"})
    content = client.get(LIST_URL).content.decode()

    assert "已抽取1件工单进行例行回访。" in content and TITLE_C in content and "例行抽查回访" in content
    client.post(SAMPLE_URL, {"count": "5"})
    assert "近30天内没有可以抽样回访的工单。" in client.get(LIST_URL).content.decode()


@pytest.mark.parametrize(
    ("count", "message"),
    [
        ("0", "确保该值大于或等于1。"),
        ("21", "确保该值小于或等于20。"),
        ("abc", "输入整数。"),
        ("", "该字段是必填项。"),
    ],
)
def test_a_sample_with_a_bad_count_from_the_page_is_a_400(world, count, message):
    before = state()

    response = client_for(world, "staff_a").post(SAMPLE_URL, {"count": count})

    assert response.status_code == 400
    assert message in response.content.decode()
    assert state() == before


def test_the_list_page_reads_a_fixed_number_of_queries(world, django_assert_num_queries):
    client = client_for(world, "dispatcher")

    with django_assert_num_queries(6):
        # 1. the session; 2. the user; 3. the user's node (area_of, and the heading's name)
        # 4. COUNT(*) of the tab's cases, for the pager
        # 5. the user's volunteer profile, if any (the header's links)
        # 6. the page: cases joined to their request, its rating and resident, and the station
        response = client.get(LIST_URL)

    assert response.status_code == 200


@pytest.mark.parametrize(("actor", "shown"), [("staff_a", True), ("resident", False), ("volunteer", False)])
def test_staff_have_a_follow_up_link_in_the_header(world, actor, shown):
    content = client_for(world, actor).get("/r/requests/").content.decode()

    assert ('<a href="/s/followups/">回访</a>' in content) is shown
