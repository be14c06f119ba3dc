"""The rating page, the 求助 form and the 长辈版 switch, through Django's test client: who may see
them, what bad input gets, and where the 长辈版 choice is kept."""

import pytest

from apps.accounts.models import User
from apps.ratings.models import Rating
from apps.service_requests.models import ServiceRequest, Status
from tests.service_requests.factories import submit_request
from tests.workflow.test_pages_browser import _completed_request


@pytest.mark.django_db
def test_the_rating_page_is_the_requesters_alone(client, cast, org) -> None:
    request = _completed_request(cast, org)
    url = f"/r/requests/{request.id}/rate/"
    assert client.get(url).status_code == 302  # to the log-in
    client.force_login(cast.other_resident)
    assert client.get(url).status_code == 404
    assert client.post(url, {"score": "5"}).status_code == 404
    assert not Rating.objects.exists()
    client.force_login(cast.resident)
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    for word in ("非常满意", "满意", "一般", "不满意", "非常不满意"):
        assert f'<span class="word">{word}</span>' in html


@pytest.mark.django_db
def test_a_request_not_finished_has_nothing_to_rate(client, cast, org) -> None:
    request = submit_request(requester=cast.resident, category=org["category"], village=org["village_a1"])
    client.force_login(cast.resident)
    response = client.get(f"/r/requests/{request.id}/rate/")
    assert (response.status_code, response["Location"]) == (302, f"/r/requests/{request.id}/")
    response = client.post(f"/r/requests/{request.id}/rate/", {"score": "5"}, follow=True)
    assert [str(m) for m in response.context["messages"]] == ["服务完成后才能评价。"]
    assert not Rating.objects.exists()
    assert ServiceRequest.objects.get(id=request.id).status == Status.SUBMITTED


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({}, "请选择满意程度。"),
        ({"score": "6"}, "选择一个有效的选项。 6 不在可用的选项中。"),
        ({"score": "five"}, "选择一个有效的选项。 five 不在可用的选项中。"),
        ({"score": "5", "tags": ["rude"]}, "选择一个有效的选项。 rude 不在可用的选项中。"),
        ({"score": "5", "comment": "好" * 501}, "确保该变量包含不超过 500 字符 (目前字符数 501)。"),
    ],
)
def test_a_bad_rating_is_refused_in_words_and_changes_nothing(client, cast, org, data, error) -> None:
    request = _completed_request(cast, org)
    client.force_login(cast.resident)
    response = client.post(f"/r/requests/{request.id}/rate/", data)
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not Rating.objects.exists()
    assert ServiceRequest.objects.get(id=request.id).status == Status.COMPLETED


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"category": ""}, "请选择需要什么帮助。"),
        ({"category": "999999"}, "选择一个有效的选项： 该选择不在可用的选项中。"),
        ({"what": "   "}, "请说一句需要什么帮助。"),
        ({"what": "修" * 201}, "确保该变量包含不超过 200 字符 (目前字符数 201)。"),
        ({"village": ""}, "请选择村/社区。"),
        ({"contact_phone": "12345"}, "请输入手机号码或带区号的固定电话。"),
    ],
)
def test_a_bad_help_request_is_refused_in_words_and_creates_nothing(client, cast, org, change, error) -> None:
    client.force_login(cast.resident)
    data = {
        "category": org["category"].id,
        "what": "家里水管漏水了",
        "village": org["village_a1"].id,
        "contact_phone": "13912345678",
        **change,
    }
    response = client.post("/r/help/", data)
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not ServiceRequest.objects.exists()


@pytest.mark.django_db
def test_a_long_sentence_is_the_description_and_its_start_the_title(client, cast, org) -> None:
    client.force_login(cast.resident)
    sentence = "家里的水管从昨天晚上开始一直漏水，厨房地上都是水，老伴腿脚不好，想请志愿者来帮忙看看怎么修"
    response = client.post(
        "/r/help/",
        {
            "category": org["category"].id,
            "what": sentence,
            "village": org["village_a1"].id,
            "address": "东街12号",
            "contact_phone": "13912345678",
        },
    )
    created = ServiceRequest.objects.get()
    assert (response.status_code, response["Location"]) == (302, f"/r/requests/{created.id}/")
    assert (created.title, created.description, created.address) == (sentence[:29] + "…", sentence, "东街12号")


@pytest.mark.django_db
def test_the_switch_keeps_the_choice_on_the_account_and_in_the_browser(client, cast) -> None:
    client.force_login(cast.resident)
    response = client.post("/elder-mode/", {"next": "/r/requests/"})
    assert (response.status_code, response["Location"]) == (302, "/r/requests/")
    assert response.cookies["elder_mode"].value == "1"
    assert User.objects.get(id=cast.resident.id).elder_mode is True
    # The account decides once logged in, whatever the cookie says.
    client.cookies["elder_mode"] = "0"
    page = client.get("/r/requests/")
    assert '<body class="elder"' in page.content.decode()
    assert page.cookies["elder_mode"].value == "1"
    response = client.post("/elder-mode/", {"next": "https://example.com/"})
    assert (response["Location"], response.cookies["elder_mode"].value) == ("/", "0")
    assert User.objects.get(id=cast.resident.id).elder_mode is False


@pytest.mark.django_db
def test_before_logging_in_the_cookie_decides(client) -> None:
    assert '<body class=""' in client.get("/login/").content.decode()
    response = client.post("/elder-mode/", {"next": "/login/"})
    assert response.cookies["elder_mode"].value == "1"
    assert '<body class="elder"' in client.get("/login/").content.decode()
