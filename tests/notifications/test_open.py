"""Opening a message marks it read and goes to the page it is about (or back to the inbox): only
the reader's own messages open, anyone else's is a 404 and leaves it unread; the header's count
drops by one; the inbox marks unread messages with a word, not only a colour, and offers
"全部标为已读" only while something is unread. The API's equivalent is POST …/read/."""

from datetime import timedelta
from urllib.parse import quote

import pytest
from django.utils import timezone

from apps.notifications.models import Kind, Notification
from apps.notifications.services import notify

pytestmark = pytest.mark.django_db

REQUEST_PAGE = "/r/requests/42/"
ROLES = [
    "resident",
    "other_resident",
    "volunteer",
    "other_volunteer",
    "staff_a",
    "station_staff_a1",
    "staff_b",
    "dispatcher",
    "admin",
    "sub_centre_staff",
    "centre_office_staff",
]


def _user(cast, role: str):
    who = getattr(cast, role)
    return who.user if hasattr(who, "user") else who


def _tell(user, *, kind: str = Kind.ACCEPTED, link: str = REQUEST_PAGE, request_id: int | None = 42) -> Notification:
    params = {"title": "帮忙修理漏水的水龙头", "volunteer": "张*明（ZZV0000001）"}
    (row,) = notify(recipient_ids=[user.id], kind=kind, request_id=request_id, params=params, link=link)
    return row


def _read_state() -> list[tuple[int, bool]]:
    """(id, still unread) of every notification."""
    return [(id_, read_at is None) for id_, read_at in Notification.objects.order_by("id").values_list("id", "read_at")]


def _badge(client) -> str:
    return client.get("/notifications/badge/").content.decode()


def _badge_of(n: int) -> str:
    return f' <span class="badge" aria-label="{n}条未读">{n}</span>'


# ---------------------------------------------------------------------------------------- the page


def test_opening_a_message_marks_it_read_and_goes_to_its_page(client, cast) -> None:
    first, second, third = (_tell(cast.resident) for _ in range(3))
    client.force_login(cast.resident)
    assert _badge(client) == _badge_of(3)
    before = timezone.now()

    response = client.get(f"/notifications/{second.id}/")

    assert (response.status_code, response["Location"]) == (302, REQUEST_PAGE)
    assert "no-store" in response["Cache-Control"]
    assert _read_state() == [(first.id, True), (second.id, False), (third.id, True)]
    read_at = Notification.objects.get(id=second.id).read_at
    assert read_at is not None and before <= read_at <= timezone.now()
    assert _badge(client) == _badge_of(2)


def test_opening_a_message_again_keeps_when_it_was_first_read(client, cast) -> None:
    row = _tell(cast.resident)
    first_read = timezone.now() - timedelta(days=2)
    Notification.objects.filter(id=row.id).update(read_at=first_read)
    client.force_login(cast.resident)

    response = client.get(f"/notifications/{row.id}/")

    assert (response.status_code, response["Location"]) == (302, REQUEST_PAGE)
    assert Notification.objects.get(id=row.id).read_at == first_read


def test_a_message_about_no_page_opens_back_into_the_inbox_read(client, cast) -> None:
    row = _tell(cast.volunteer.user, kind=Kind.TEAM_INVITED, link="", request_id=None)
    client.force_login(cast.volunteer.user)

    response = client.get(f"/notifications/{row.id}/")

    assert (response.status_code, response["Location"]) == (302, "/notifications/")
    assert _read_state() == [(row.id, False)]
    html = client.get("/notifications/").content.decode()
    assert f'<a href="/notifications/{row.id}/"><strong>服务队邀请</strong></a>' in html
    assert "未读" not in html
    assert _badge(client) == ""


@pytest.mark.parametrize(
    "link", ["https://evil.example/phish", "//evil.example/phish", "javascript:alert(1)", "http:/\\evil.example"]
)
def test_a_link_off_the_site_is_not_followed(client, cast, link: str) -> None:
    row = _tell(cast.resident, link=link)
    client.force_login(cast.resident)

    response = client.get(f"/notifications/{row.id}/")

    assert (response.status_code, response["Location"]) == (302, "/notifications/")
    assert _read_state() == [(row.id, False)]


@pytest.mark.parametrize("role", [r for r in ROLES if r != "resident"])
def test_someone_elses_message_is_not_found_and_stays_unread(client, cast, role: str) -> None:
    row = _tell(cast.resident)
    own = _tell(_user(cast, role))
    client.force_login(_user(cast, role))

    response = client.get(f"/notifications/{row.id}/")

    assert response.status_code == 404
    assert "帮忙修理漏水的水龙头" not in response.content.decode()
    assert _read_state() == [(row.id, True), (own.id, True)]


def test_a_message_that_does_not_exist_is_not_found(client, cast) -> None:
    row = _tell(cast.resident)
    client.force_login(cast.resident)
    assert client.get(f"/notifications/{row.id + 1000}/").status_code == 404
    assert _read_state() == [(row.id, True)]


def test_anyone_signed_out_is_sent_to_log_in_and_nothing_is_read(client, cast) -> None:
    row = _tell(cast.resident)
    path = f"/notifications/{row.id}/"

    response = client.get(path)

    assert (response.status_code, response["Location"]) == (302, "/login/?next=" + quote(path, safe="/"))
    assert _read_state() == [(row.id, True)]


def test_a_form_posted_to_a_message_is_refused_without_change(client, cast) -> None:
    row = _tell(cast.resident)
    client.force_login(cast.resident)
    assert client.post(f"/notifications/{row.id}/").status_code == 405
    assert _read_state() == [(row.id, True)]


def test_opening_a_message_runs_four_queries(client, cast, django_assert_num_queries) -> None:
    row = _tell(cast.resident)
    client.force_login(cast.resident)
    client.get("/notifications/")  # the session is warm
    with django_assert_num_queries(4):
        # 1. the session
        # 2. the user
        # 3. the notification, among the user's own
        # 4. UPDATE read_at where still unread
        client.get(f"/notifications/{row.id}/")


# --------------------------------------------------------------------------------------- the inbox


def test_the_inbox_marks_unread_messages_in_words_and_links_each_through_open(client, cast) -> None:
    read = _tell(cast.resident, kind=Kind.RECEIVED)
    unread = _tell(cast.resident, kind=Kind.ACCEPTED)
    Notification.objects.filter(id=read.id).update(read_at=timezone.now())
    client.force_login(cast.resident)

    html = client.get("/notifications/").content.decode()

    assert html.count('<li class="card unread">') == 1
    assert html.count('<li class="card">') == 1
    assert (
        '<li class="card unread"><span class="tag unread-mark"><span aria-hidden="true">●</span>未读</span> '
        f'<a href="/notifications/{unread.id}/"><strong>志愿者已接单</strong></a>'
        "<p>志愿者张*明（ZZV0000001）已接单#42「帮忙修理漏水的水龙头」。</p>"
    ) in html
    assert (
        f'<li class="card"><a href="/notifications/{read.id}/"><strong>需求已收到</strong></a>'
        "<p>您的需求#42「帮忙修理漏水的水龙头」已收到，我们会尽快审核。</p>"
    ) in html
    assert html.count("未读") == 2  # the item's mark and "1条未读"
    assert '<p class="meta">1条未读</p>' in html
    assert html.count("全部标为已读") == 1
    # The stored link is reached only through opening, which marks the message read.
    assert f'href="{REQUEST_PAGE}"' not in html


def test_the_inbox_offers_to_mark_all_read_only_while_something_is_unread(client, cast) -> None:
    _tell(cast.resident)
    client.force_login(cast.resident)
    assert "全部标为已读" in client.get("/notifications/").content.decode()

    response = client.post("/notifications/read-all/")

    assert (response.status_code, response["Location"]) == (302, "/notifications/")
    html = client.get("/notifications/").content.decode()
    assert "全部标为已读" not in html
    assert "未读" not in html
    assert html.count('<li class="card">') == 1


def test_an_empty_inbox_offers_nothing_to_mark(client, cast) -> None:
    client.force_login(cast.resident)
    html = client.get("/notifications/").content.decode()
    assert "暂无消息。" in html
    assert "全部标为已读" not in html


def test_an_unread_message_on_a_later_page_still_offers_mark_all_read(client, cast) -> None:
    oldest = _tell(cast.resident)
    for _ in range(30):
        _tell(cast.resident)
    Notification.objects.exclude(id=oldest.id).update(read_at=timezone.now())
    client.force_login(cast.resident)

    html = client.get("/notifications/").content.decode()

    assert "未读</span>" not in html  # the first page holds the thirty newest, all read
    assert '<p class="meta">1条未读</p>' in html
    assert "全部标为已读" in html


# ------------------------------------------------------------------------------------------ the API


def test_the_api_marks_ones_own_message_read(api, cast) -> None:
    mine, other = _tell(cast.resident), _tell(cast.resident)

    response = api(cast.resident).post(f"/api/v1/notifications/{mine.id}/read/")

    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["link"], body["read_at"] is not None) == (mine.id, REQUEST_PAGE, True)
    assert _read_state() == [(mine.id, False), (other.id, True)]


@pytest.mark.parametrize("role", [r for r in ROLES if r != "resident"])
def test_the_api_does_not_find_someone_elses_message(api, cast, role: str) -> None:
    row = _tell(cast.resident)

    response = api(_user(cast, role)).post(f"/api/v1/notifications/{row.id}/read/")

    assert response.status_code == 404
    assert response.json() == {"detail": "未找到，或您无权查看。", "code": "not_found"}
    assert _read_state() == [(row.id, True)]


def test_the_api_refuses_anyone_signed_out(api, cast) -> None:
    row = _tell(cast.resident)
    response = api(None).post(f"/api/v1/notifications/{row.id}/read/")
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert _read_state() == [(row.id, True)]


def test_the_inbox_counts_its_pages_and_its_unread_in_one_query(client, cast, django_assert_num_queries) -> None:
    for _ in range(3):
        _tell(cast.resident)
    client.force_login(cast.resident)
    client.get("/notifications/")
    with django_assert_num_queries(5):
        # 1. the session
        # 2. the user
        # 3. COUNT(*) of the user's notifications and of the unread ones among them
        # 4. the page of notifications
        # 5. the user's volunteer profile (none), for the menu
        html = client.get("/notifications/").content.decode()
    assert html.count('<li class="card unread">') == 3
    assert '<p class="meta">3条未读</p>' in html
