"""The volunteer registration API against the whole cast: exact status codes and bodies, nothing
leaked (no full ID number, no clear phone, no other person's data) and nothing changed by a refusal."""

import pytest

from apps.notifications.models import Kind, Notification
from apps.volunteers.models import IdReveal, VolunteerEvent, VolunteerProfile
from apps.volunteers.services import application_reject
from tests.volunteers.ids import resident_id, years_ago
from tests.volunteers.world import (
    APPLICANT_ID,
    APPLICANT_PHONE,
    OTHER_ID,
    OTHER_PHONE,
    build_applications,
    volunteer_state,
)
from tests.workflow.scenario import NOT_AUTHENTICATED, NOT_FOUND, error_body

PERMISSION_DENIED = {"detail": "您没有执行该操作的权限。", "code": "permission_denied"}
STAFF = ["station_staff_a1", "staff_a", "staff_b", "sub_centre_staff", "centre_office_staff", "dispatcher", "admin"]
# Staff whose area holds the applicant's village (太平庄村, township A).
REVIEWERS = {"station_staff_a1", "staff_a", "centre_office_staff", "dispatcher", "admin"}
NOT_STAFF = ["applicant", "other_applicant", "resident", "volunteer"]
ACTORS = ["anonymous", *NOT_STAFF, *STAFF]

OWN_KEYS = {
    "id",
    "status",
    "volunteer_number",
    "name",
    "gender",
    "id_type",
    "id_number",
    "phone",
    "home_township",
    "home_village",
    "service_radius_km",
    "categories",
    "skills",
    "availability",
    "political_status",
    "occupation",
    "guardian_name",
    "guardian_consent_at",
    "rejection_reason",
    "submitted_at",
    "reviewed_at",
    "is_verified",
    "is_active",
    "birth_date",
    "emergency_contact_name",
    "emergency_contact_phone",
    "public_name_consent",
    "share_phone_with_residents",
}


@pytest.fixture
def world(cast, org):
    return build_applications(org)


def user_of(cast, world, actor):
    if actor == "anonymous":
        return None
    if actor == "applicant":
        return world.applicant
    if actor == "other_applicant":
        return world.other_applicant
    person = getattr(cast, actor)
    return person.user if isinstance(person, VolunteerProfile) else person


def assert_no_leak(response) -> None:
    text = response.content.decode()
    for secret in (APPLICANT_ID, OTHER_ID, APPLICANT_PHONE, OTHER_PHONE, "13955556666"):
        assert secret not in text


def refused(response, status: int, body: dict, before: dict) -> None:
    assert response.status_code == status, response.content
    assert error_body(response) == body
    assert_no_leak(response)
    assert volunteer_state() == before


def payload(org, **extra) -> dict:
    return {
        "name": "孙新人",
        "id_type": "resident_id",
        "id_number": resident_id(years_ago(25), sequence="517"),
        "village": org["village_a2"].id,
        "service_radius_km": 3,
        "categories": [org["category"].id],
        "skills": ["computer"],
        "availability": ["sun_evening", "mon_morning"],
        "privacy_consent": True,
        **extra,
    }


# --- Staff: the review queue -----------------------------------------------------------------------


@pytest.mark.parametrize("actor", ACTORS)
def test_the_pending_queue_lists_the_actors_area_oldest_first(api, cast, world, actor):
    before = volunteer_state()
    response = api(user_of(cast, world, actor)).get("/api/v1/volunteer-applications/", {"status": "pending"})
    if actor == "anonymous":
        return refused(response, 401, NOT_AUTHENTICATED, before)
    if actor in NOT_STAFF:
        return refused(response, 403, PERMISSION_DENIED, before)
    assert response.status_code == 200
    expected = {
        "station_staff_a1": [world.profile.id],
        "staff_a": [world.profile.id],
        "staff_b": [world.other_profile.id],
        "sub_centre_staff": [],
        "centre_office_staff": [world.profile.id, world.other_profile.id],
        "dispatcher": [world.profile.id, world.other_profile.id],
        "admin": [world.profile.id, world.other_profile.id],
    }[actor]
    results = response.json()["results"]
    assert [row["id"] for row in results] == expected
    if results:
        assert set(results[0]) == {
            "id",
            "status",
            "volunteer_number",
            "name",
            "home_township",
            "home_village",
            "submitted_at",
        }
    assert_no_leak(response)


def test_the_queue_finds_a_volunteer_by_number(api, cast, world):
    response = api(cast.dispatcher).get(
        "/api/v1/volunteer-applications/", {"number": cast.volunteer.volunteer_number.lower()}
    )
    assert [row["id"] for row in response.json()["results"]] == [cast.volunteer.id]


@pytest.mark.parametrize("actor", ACTORS)
def test_one_application_is_shown_masked_to_its_reviewers_only(api, cast, world, actor):
    before = volunteer_state()
    response = api(user_of(cast, world, actor)).get(f"/api/v1/volunteer-applications/{world.profile.id}/")
    if actor == "anonymous":
        return refused(response, 401, NOT_AUTHENTICATED, before)
    if actor in NOT_STAFF:
        return refused(response, 403, PERMISSION_DENIED, before)
    if actor not in REVIEWERS:
        return refused(response, 404, NOT_FOUND, before)
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "赵志愿"
    assert body["id_number"] == f"130681********{APPLICANT_ID[-4:]}"
    assert body["phone"] == "139****2222"
    assert body["age"] is not None and body["is_minor"] is False
    assert body["availability"] == ["sat_morning", "sat_afternoon"]
    assert [e["kind"] for e in body["events"]] == ["submitted"]
    assert_no_leak(response)


@pytest.mark.parametrize("actor", ACTORS)
def test_only_reviewers_of_the_village_approve(api, cast, world, actor):
    before = volunteer_state()
    response = api(user_of(cast, world, actor)).post(f"/api/v1/volunteer-applications/{world.profile.id}/approve/")
    if actor == "anonymous":
        return refused(response, 401, NOT_AUTHENTICATED, before)
    if actor in NOT_STAFF:
        return refused(response, 403, PERMISSION_DENIED, before)
    if actor not in REVIEWERS:
        return refused(response, 404, NOT_FOUND, before)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "approved"
    assert body["volunteer_number"] == f"ZZV{world.profile.id:07d}"
    assert body["is_verified"] is True
    assert Notification.objects.filter(recipient=world.applicant, kind=Kind.APPLICATION_APPROVED).count() == 1
    again = api(user_of(cast, world, actor)).post(f"/api/v1/volunteer-applications/{world.profile.id}/approve/")
    assert again.status_code == 409
    assert error_body(again) == {
        "detail": "注册申请当前状态为「已通过」，不能变更为「已通过」。",
        "code": "illegal_transition",
    }


@pytest.mark.parametrize("actor", ACTORS)
def test_only_reviewers_of_the_village_reject_with_a_reason(api, cast, world, actor):
    before = volunteer_state()
    url = f"/api/v1/volunteer-applications/{world.profile.id}/reject/"
    response = api(user_of(cast, world, actor)).post(url, {"reason": "照片不清楚"}, format="json")
    if actor == "anonymous":
        return refused(response, 401, NOT_AUTHENTICATED, before)
    if actor in NOT_STAFF:
        return refused(response, 403, PERMISSION_DENIED, before)
    if actor not in REVIEWERS:
        return refused(response, 404, NOT_FOUND, before)
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["rejection_reason"]) == ("rejected", "照片不清楚")
    note = Notification.objects.get(recipient=world.applicant, kind=Kind.APPLICATION_REJECTED)
    assert note.params == {"reason": "照片不清楚"}


@pytest.mark.parametrize("actor", ACTORS)
def test_only_reviewers_reveal_the_full_number_and_each_reveal_is_recorded(api, cast, world, actor):
    before = volunteer_state()
    url = f"/api/v1/volunteer-applications/{world.profile.id}/reveal-id/"
    response = api(user_of(cast, world, actor)).post(url, {"reason": "核对身份"}, format="json")
    if actor == "anonymous":
        return refused(response, 401, NOT_AUTHENTICATED, before)
    if actor in NOT_STAFF:
        return refused(response, 403, PERMISSION_DENIED, before)
    if actor not in REVIEWERS:
        return refused(response, 404, NOT_FOUND, before)
    assert response.status_code == 200
    assert response.json() == {"id_number": APPLICANT_ID}
    assert response["Cache-Control"] == "no-store"
    user = user_of(cast, world, actor)
    assert list(IdReveal.objects.values_list("staff_id", "volunteer_id", "reason")) == [
        (user.id, world.profile.id, "核对身份")
    ]


# --- The applicant's and volunteer's own registration ---------------------------------------------


@pytest.mark.parametrize("actor", ACTORS)
def test_each_person_reads_only_their_own_application(api, cast, world, actor):
    before = volunteer_state()
    response = api(user_of(cast, world, actor)).get("/api/v1/volunteer/application/")
    if actor == "anonymous":
        return refused(response, 401, NOT_AUTHENTICATED, before)
    if actor not in {"applicant", "other_applicant", "volunteer"}:
        return refused(response, 404, NOT_FOUND, before)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == OWN_KEYS
    own = {"applicant": world.profile, "other_applicant": world.other_profile, "volunteer": cast.volunteer}[actor]
    assert body["id"] == own.id
    if actor == "applicant":
        assert (body["name"], body["status"], body["phone"]) == ("赵志愿", "pending", "139****2222")
        assert body["id_number"] == f"130681********{APPLICANT_ID[-4:]}"
        assert body["emergency_contact_phone"] == "139****6666"
    assert_no_leak(response)


@pytest.mark.parametrize("actor", ACTORS)
def test_anyone_signed_in_without_an_application_may_apply_once(api, cast, org, world, actor):
    before = volunteer_state()
    response = api(user_of(cast, world, actor)).post("/api/v1/volunteer/application/", payload(org), format="json")
    if actor == "anonymous":
        return refused(response, 401, NOT_AUTHENTICATED, before)
    if actor in {"applicant", "other_applicant", "volunteer"}:
        return refused(response, 409, {"detail": "您已提交过志愿者注册申请。", "code": "already_applied"}, before)
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["status"], body["name"], body["availability"]) == ("pending", "孙新人", ["mon_morning", "sun_evening"])
    assert body["gender"] == "M" and body["birth_date"] == years_ago(25).isoformat()
    assert VolunteerEvent.objects.filter(volunteer_id=body["id"]).count() == 1


def test_a_second_account_with_the_same_id_gets_a_clear_error_naming_no_one(api, cast, org, world):
    before = volunteer_state()
    response = api(cast.resident).post(
        "/api/v1/volunteer/application/", payload(org, id_number=APPLICANT_ID.lower()), format="json"
    )
    refused(
        response,
        400,
        {"detail": "该证件号码已注册志愿者。如有疑问，请联系所在村（社区）新时代文明实践站。", "code": "id_duplicate"},
        before,
    )
    assert "赵" not in response.content.decode()


@pytest.mark.parametrize("actor", ["anonymous", "applicant", "other_applicant", "resident", "volunteer", "staff_a"])
def test_only_a_rejected_applicant_resubmits_their_own(api, cast, org, world, actor):
    application_reject(profile=world.profile, actor=cast.staff_a, reason="请填写紧急联系人")
    before = volunteer_state()
    body = payload(org, id_number="", name="赵志愿")
    response = api(user_of(cast, world, actor)).put("/api/v1/volunteer/application/", body, format="json")
    if actor == "anonymous":
        return refused(response, 401, NOT_AUTHENTICATED, before)
    if actor in {"resident", "staff_a"}:
        return refused(response, 404, NOT_FOUND, before)
    if actor == "other_applicant":
        # Pending: nothing to resubmit (and the body's empty number has nothing to keep).
        return refused(
            response,
            409,
            {"detail": "注册申请当前状态为「待审核」，不能变更为「待审核」。", "code": "illegal_transition"},
            before,
        )
    if actor == "volunteer":
        assert response.status_code == 400
        assert error_body(response)["errors"] == {"id_number": ["请填写证件号码。"]}
        assert volunteer_state() == before
        return
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["rejection_reason"]) == ("pending", "")
    assert VolunteerProfile.objects.get(id=world.profile.id).id_number == APPLICANT_ID


@pytest.mark.parametrize("actor", ["anonymous", "applicant", "resident", "volunteer", "dispatcher"])
def test_only_an_approved_volunteer_changes_their_profile(api, cast, org, world, actor):
    before = volunteer_state()
    response = api(user_of(cast, world, actor)).patch(
        "/api/v1/volunteer/profile/", {"availability": ["fri_evening"], "service_radius_km": 12}, format="json"
    )
    if actor == "anonymous":
        return refused(response, 401, NOT_AUTHENTICATED, before)
    if actor in {"resident", "dispatcher"}:
        return refused(response, 404, NOT_FOUND, before)
    if actor == "applicant":
        return refused(response, 409, {"detail": "注册通过审核后才能修改服务资料。", "code": "not_approved"}, before)
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["availability"], body["service_radius_km"]) == (["fri_evening"], 12)
    assert [c["id"] for c in body["categories"]] == [org["category"].id]  # unchanged
    assert body["home_village"]["id"] == org["village_a1"].id


@pytest.mark.parametrize("actor", ["anonymous", "applicant", "resident", "volunteer", "dispatcher"])
def test_only_an_approved_volunteer_pauses_and_resumes(api, cast, world, actor):
    before = volunteer_state()
    client = api(user_of(cast, world, actor))
    response = client.post("/api/v1/volunteer/profile/pause/")
    if actor == "anonymous":
        return refused(response, 401, NOT_AUTHENTICATED, before)
    if actor in {"resident", "dispatcher"}:
        return refused(response, 404, NOT_FOUND, before)
    if actor == "applicant":
        return refused(response, 409, {"detail": "注册通过审核后才能暂停或恢复服务。", "code": "not_approved"}, before)
    assert (response.status_code, response.json()["is_active"]) == (200, False)
    again = client.post("/api/v1/volunteer/profile/pause/")
    assert (again.status_code, error_body(again)["code"]) == (409, "already_paused")
    resumed = client.post("/api/v1/volunteer/profile/resume/")
    assert (resumed.status_code, resumed.json()["is_active"]) == (200, True)
    again = client.post("/api/v1/volunteer/profile/resume/")
    assert (again.status_code, error_body(again)) == (409, {"detail": "您没有暂停服务。", "code": "not_paused"})


@pytest.mark.parametrize("actor", ["anonymous", "applicant", "resident", "volunteer", "dispatcher"])
def test_leaving_needs_confirmation_and_an_own_registration(api, cast, world, actor):
    before = volunteer_state()
    client = api(user_of(cast, world, actor))
    unconfirmed = client.post("/api/v1/volunteer/profile/leave/", {"confirm": False}, format="json")
    response = client.post("/api/v1/volunteer/profile/leave/", {"confirm": True}, format="json")
    if actor == "anonymous":
        refused(unconfirmed, 401, NOT_AUTHENTICATED, before)
        return refused(response, 401, NOT_AUTHENTICATED, before)
    assert unconfirmed.status_code == 400
    assert error_body(unconfirmed)["errors"] == {"confirm": ["请确认后再退出。"]}
    if actor in {"resident", "dispatcher"}:
        return refused(response, 404, NOT_FOUND, before)
    assert response.status_code == 204
    profile = VolunteerProfile.objects.select_related("user").get(user=user_of(cast, world, actor))
    assert (profile.status, profile.user.name, profile.user.is_active) == ("left", "已注销用户", False)
