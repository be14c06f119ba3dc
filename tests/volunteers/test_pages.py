"""The sign-up, the volunteer's own page and the review pages against the cast: exact status codes
and redirects, nothing leaked, nothing changed by a refusal, clear messages for bad input."""

from urllib.parse import quote

import pytest

from apps.accounts.models import User
from apps.volunteers.models import IdReveal, VolunteerProfile
from apps.volunteers.services import application_approve, application_reject
from tests.volunteers.ids import resident_id, years_ago
from tests.volunteers.test_api import ACTORS, NOT_STAFF, REVIEWERS, user_of
from tests.volunteers.world import APPLICANT_ID, APPLICANT_PHONE, OTHER_ID, build_applications, volunteer_state


@pytest.fixture
def world(cast, org):
    return build_applications(org)


def login_redirect(path: str) -> str:
    return "/login/?next=" + quote(path, safe="/")


def as_(client, cast, world, actor):
    user = user_of(cast, world, actor)
    if user is not None:
        client.force_login(user)
    return client


def no_secrets(html: str) -> None:
    for secret in (APPLICANT_ID, OTHER_ID, APPLICANT_PHONE, "13955556666"):
        assert secret not in html


def form(org, **extra) -> dict:
    return {
        "name": "孙新人",
        "id_type": "resident_id",
        "id_number": resident_id(years_ago(30), sequence="615"),
        "village": str(org["village_a1"].id),
        "service_radius_km": "5",
        "categories": [str(org["category"].id)],
        "skills": ["elder_care"],
        "availability": ["sat_morning", "sun_afternoon"],
        "privacy_consent": "on",
        **extra,
    }


# --- The applicant's pages -------------------------------------------------------------------------


@pytest.mark.parametrize("actor", ACTORS)
def test_the_signup_page_shows_each_person_what_fits_their_state(client, cast, world, actor):
    response = as_(client, cast, world, actor).get("/v/signup/")
    html = response.content.decode()
    if actor == "anonymous":
        assert (response.status_code, response["Location"]) == (302, login_redirect("/v/signup/"))
    elif actor == "volunteer":
        assert (response.status_code, response["Location"]) == (302, "/v/profile/")
    elif actor in {"applicant", "other_applicant"}:
        assert response.status_code == 200
        assert "您的注册申请正在审核中" in html and 'name="id_number"' not in html
    else:
        assert response.status_code == 200
        assert 'name="id_number"' in html and 'name="availability"' in html
        assert html.count('type="checkbox" name="availability"') == 21
    no_secrets(html)


def test_signing_up_through_the_page_creates_a_pending_application(client, cast, org, world):
    client.force_login(cast.resident)
    response = client.post("/v/signup/", form(org))
    assert (response.status_code, response["Location"]) == (302, "/v/signup/")
    profile = VolunteerProfile.objects.get(user=cast.resident)
    assert (profile.status, profile.availability, profile.skills) == ("pending", (1 << 15) | (1 << 19), ["elder_care"])
    assert User.objects.get(id=cast.resident.id).name == "孙新人"
    assert "您的注册申请正在审核中" in client.get("/v/signup/").content.decode()


@pytest.mark.parametrize(
    ("change", "field_error"),
    [
        ({"id_number": resident_id(years_ago(30))[:17]}, "证件号码应为18位，最后一位可以是数字或X。"),
        ({"id_number": resident_id(years_ago(12))}, "未满14周岁不能自行注册志愿者"),
        ({"id_number": resident_id(years_ago(16))}, "未满18周岁须经监护人同意后才能注册。"),
        ({"id_number": APPLICANT_ID}, "该证件号码已注册志愿者。如有疑问，请联系所在村（社区）新时代文明实践站。"),
        ({"availability": []}, "请至少选择一个可服务时段。"),
        ({"availability": ["mon_night"]}, "时段 mon_night 不存在。"),
        ({"categories": []}, "请至少选择一个服务类别。"),
        ({"village": str(0)}, "没有这个村/社区，请重新选择。"),
        ({"privacy_consent": ""}, "请阅读并同意个人信息处理说明。"),
        ({"emergency_contact_phone": "12"}, "请输入手机号码或带区号的固定电话。"),
    ],
)
def test_a_bad_signup_form_shows_a_clear_error_and_changes_nothing(client, cast, org, world, change, field_error):
    client.force_login(cast.resident)
    before = volunteer_state()
    response = client.post("/v/signup/", form(org, **change))
    assert response.status_code == 200
    html = response.content.decode()
    assert field_error in html
    # The page gives back what this person typed, nothing of anyone else's.
    assert "赵志愿" not in html and OTHER_ID not in html and APPLICANT_PHONE not in html
    assert volunteer_state() == before


def test_a_rejected_applicant_reads_the_reason_fixes_and_resubmits(client, cast, org, world):
    application_reject(profile=world.profile, actor=cast.staff_a, reason="请补充服务类别")
    client.force_login(world.applicant)
    html = client.get("/v/signup/").content.decode()
    assert "您的注册申请未通过审核" in html and "请补充服务类别" in html
    assert f"已登记：130681********{APPLICANT_ID[-4:]}" in html
    no_secrets(html)
    response = client.post("/v/signup/", form(org, id_number="", name="赵志愿"))
    assert (response.status_code, response["Location"]) == (302, "/v/signup/")
    profile = VolunteerProfile.objects.get(id=world.profile.id)
    assert (profile.status, profile.id_number, profile.rejection_reason) == ("pending", APPLICANT_ID, "")


@pytest.mark.parametrize("actor", ACTORS)
def test_the_profile_page_is_the_approved_volunteers_own(client, cast, world, actor):
    response = as_(client, cast, world, actor).get("/v/profile/")
    if actor == "anonymous":
        assert (response.status_code, response["Location"]) == (302, login_redirect("/v/profile/"))
        return
    if actor != "volunteer":
        assert (response.status_code, response["Location"]) == (302, "/v/signup/")
        return
    html = response.content.decode()
    assert response.status_code == 200
    assert cast.volunteer.volunteer_number in html
    assert cast.volunteer.user.masked_phone in html and cast.volunteer.user.phone not in html
    assert "暂停服务" in html and "/v/profile/leave/" in html


def test_a_volunteer_edits_availability_and_radius_on_their_page(client, cast, org):
    client.force_login(cast.volunteer.user)
    response = client.post(
        "/v/profile/",
        {
            "village": str(org["village_a2"].id),
            "service_radius_km": "8",
            "categories": [str(org["category"].id)],
            "availability": ["wed_evening"],
        },
    )
    assert (response.status_code, response["Location"]) == (302, "/v/profile/")
    profile = VolunteerProfile.objects.get(id=cast.volunteer.id)
    assert (profile.availability, profile.service_radius_km) == (1 << 8, 8)
    assert (profile.home_township_id, profile.home_village_id) == (org["township_a"].id, org["village_a2"].id)


def test_a_bad_profile_edit_changes_nothing(client, cast, org):
    client.force_login(cast.volunteer.user)
    before = volunteer_state()
    response = client.post("/v/profile/", {"village": str(org["village_a1"].id), "service_radius_km": "99"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "请至少选择一个服务类别。" in html and "请至少选择一个可服务时段。" in html
    assert volunteer_state() == before


@pytest.mark.parametrize("actor", ["anonymous", "resident", "applicant", "volunteer"])
def test_pause_and_resume_are_the_volunteers_own(client, cast, world, actor):
    before = volunteer_state()
    response = as_(client, cast, world, actor).post("/v/profile/pause/")
    if actor == "anonymous":
        assert response.status_code == 302 and response["Location"].startswith("/login/")
    elif actor == "resident":
        assert response.status_code == 404
    elif actor == "applicant":
        assert (response.status_code, response["Location"]) == (302, "/v/profile/")
        assert volunteer_state() == before
        return
    else:
        assert response.status_code == 302
        assert VolunteerProfile.objects.get(id=cast.volunteer.id).is_active is False
        assert "您已暂停服务" in client.get("/v/profile/").content.decode()
        client.post("/v/profile/resume/")
        assert VolunteerProfile.objects.get(id=cast.volunteer.id).is_active is True
        return
    assert volunteer_state() == before


def test_leaving_explains_what_is_kept_and_needs_confirmation(client, cast):
    client.force_login(cast.volunteer.user)
    html = client.get("/v/profile/leave/").content.decode()
    assert "志愿服务记录" in html and "将被删除的信息" in html and "将被保留的信息及原因" in html
    before = volunteer_state()
    response = client.post("/v/profile/leave/", {})
    assert response.status_code == 200 and "请勾选确认后再退出。" in response.content.decode()
    assert volunteer_state() == before
    response = client.post("/v/profile/leave/", {"confirm": "on"})
    assert (response.status_code, response["Location"]) == (302, "/")
    user = User.objects.get(id=cast.volunteer.user_id)
    assert (user.name, user.is_active) == ("已注销用户", False)
    assert client.get("/v/profile/")["Location"] == login_redirect("/v/profile/")


def test_a_resident_without_a_registration_has_no_leave_page(client, cast):
    client.force_login(cast.resident)
    assert client.get("/v/profile/leave/").status_code == 404
    assert client.post("/v/profile/leave/", {"confirm": "on"}).status_code == 404
    assert User.objects.get(id=cast.resident.id).is_active is True


# --- Staff pages ------------------------------------------------------------------------------------


@pytest.mark.parametrize("actor", ACTORS)
def test_the_review_list_shows_the_staff_areas_applications_only(client, cast, world, actor):
    response = as_(client, cast, world, actor).get("/s/volunteers/")
    if actor == "anonymous":
        assert (response.status_code, response["Location"]) == (302, login_redirect("/s/volunteers/"))
        return
    if actor in NOT_STAFF:
        assert response.status_code == 404
        return
    html = response.content.decode()
    assert response.status_code == 200
    links = {pid for pid in (world.profile.id, world.other_profile.id) if f'href="/s/volunteers/{pid}/"' in html}
    expected = {
        "station_staff_a1": {world.profile.id},
        "staff_a": {world.profile.id},
        "staff_b": {world.other_profile.id},
        "sub_centre_staff": set(),
    }.get(actor, {world.profile.id, world.other_profile.id})
    assert links == expected
    no_secrets(html)


def test_the_approved_tab_finds_a_volunteer_by_number(client, cast, world):
    client.force_login(cast.dispatcher)
    html = client.get("/s/volunteers/", {"tab": "approved", "number": cast.volunteer.volunteer_number}).content.decode()
    assert f'href="/s/volunteers/{cast.volunteer.id}/"' in html
    assert f'href="/s/volunteers/{cast.other_volunteer.id}/"' not in html


@pytest.mark.parametrize("actor", ACTORS)
def test_the_detail_page_is_shown_masked_to_reviewers_only(client, cast, world, actor):
    url = f"/s/volunteers/{world.profile.id}/"
    response = as_(client, cast, world, actor).get(url)
    if actor == "anonymous":
        assert (response.status_code, response["Location"]) == (302, login_redirect(url))
        return
    if actor not in REVIEWERS:
        assert response.status_code == 404
        return
    html = response.content.decode()
    assert response.status_code == 200
    assert f"130681********{APPLICANT_ID[-4:]}" in html and "139****2222" in html
    assert "显示完整证件号" in html and "核验通过" in html
    no_secrets(html)


@pytest.mark.parametrize("actor", ACTORS)
def test_only_reviewers_approve_reject_or_reveal_through_the_pages(client, cast, world, actor):
    client = as_(client, cast, world, actor)
    base = f"/s/volunteers/{world.profile.id}/"
    before = volunteer_state()
    reveal = client.post(base + "reveal-id/", {"reveal-reason": "核对身份"})
    reject = client.post(base + "reject/", {"reject-reason": "照片不清"})
    if actor == "anonymous":
        assert (reveal.status_code, reject.status_code) == (302, 302)
        assert volunteer_state() == before
        return
    if actor not in REVIEWERS:
        assert (reveal.status_code, reject.status_code) == (404, 404)
        no_secrets(reveal.content.decode())
        assert volunteer_state() == before
        return
    assert reveal.status_code == 200 and reveal["Cache-Control"].startswith("no-store")
    assert f'<strong id="id-revealed">{APPLICANT_ID}</strong>' in reveal.content.decode()
    assert IdReveal.objects.count() == 1
    # Shown once: the page read again shows the masked number only.
    no_secrets(client.get(base).content.decode())
    assert (reject.status_code, reject["Location"]) == (302, base)
    assert VolunteerProfile.objects.get(id=world.profile.id).status == "rejected"


@pytest.mark.parametrize("actor", ["station_staff_a1", "staff_b", "resident"])
def test_approving_through_the_page(client, cast, world, actor):
    client = as_(client, cast, world, actor)
    response = client.post(f"/s/volunteers/{world.profile.id}/approve/")
    profile = VolunteerProfile.objects.get(id=world.profile.id)
    if actor == "station_staff_a1":
        assert response.status_code == 302
        assert (profile.status, profile.volunteer_number) == ("approved", f"ZZV{profile.id:07d}")
        again = client.post(f"/s/volunteers/{world.profile.id}/approve/", follow=True)
        assert "注册申请当前状态为「已通过」，不能变更为「已通过」。" in again.content.decode()
    else:
        assert response.status_code == 404
        assert (profile.status, profile.volunteer_number) == ("pending", None)


@pytest.mark.parametrize(
    ("path", "data", "message"),
    [
        ("reject/", {}, "请填写原因。"),
        ("reject/", {"reject-reason": "\u200b"}, "请填写原因。"),
        ("reveal-id/", {"reveal-reason": " "}, "请填写原因。"),
    ],
)
def test_a_rejection_or_reveal_without_a_reason_changes_nothing(client, cast, world, path, data, message):
    client.force_login(cast.staff_a)
    before = volunteer_state()
    response = client.post(f"/s/volunteers/{world.profile.id}/{path}", data, follow=True)
    html = response.content.decode()
    assert response.status_code == 200 and message in html
    no_secrets(html)
    assert volunteer_state() == before


@pytest.mark.parametrize("path", ["approve/", "reject/", "reveal-id/"])
def test_a_get_on_a_staff_action_is_refused(client, cast, world, path):
    client.force_login(cast.staff_a)
    before = volunteer_state()
    assert client.get(f"/s/volunteers/{world.profile.id}/{path}").status_code == 405
    assert volunteer_state() == before


def test_a_left_volunteer_shows_no_reveal_form(client, cast, world):
    from apps.volunteers.services import volunteer_leave

    application_approve(profile=world.profile, actor=cast.staff_a)
    volunteer_leave(profile=VolunteerProfile.objects.get(id=world.profile.id), actor=world.applicant)
    client.force_login(cast.dispatcher)
    html = client.get(f"/s/volunteers/{world.profile.id}/").content.decode()
    assert "显示完整证件号" not in html and "已注销用户" in html
