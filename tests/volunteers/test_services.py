"""Sign-up, review, the volunteer's own changes, leaving, and the audited ID reveal, through the services."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from apps.accounts.models import User
from apps.core.errors import Conflict, DomainError, Forbidden, NotFound
from apps.dispatch.services import dispatch_directed
from apps.notifications.models import Kind, Notification
from apps.service_requests.services import request_review
from apps.volunteers.identity import age_on, id_digest, mask_id
from apps.volunteers.models import ApplicationStatus, IdReveal, VolunteerEvent, VolunteerProfile
from apps.volunteers.selectors import dispatchable_volunteers
from apps.volunteers.services import (
    DUPLICATE_ID,
    application_approve,
    application_reject,
    application_resubmit,
    application_submit,
    id_reveal,
    volunteer_leave,
    volunteer_pause,
    volunteer_resume,
)
from tests.accounts.factories import make_user
from tests.volunteers.ids import resident_id, years_ago
from tests.volunteers.world import APPLICANT_ID, APPLICANT_PHONE, OTHER_ID, application, build_applications
from tests.workflow.scenario import submit

DUPLICATE_MESSAGE = "该证件号码已注册志愿者。如有疑问，请联系所在村（社区）新时代文明实践站。"


@pytest.fixture
def apps_(cast, org):
    return build_applications(org)


def kinds(profile: VolunteerProfile) -> list[tuple[str, str, str]]:
    return list(
        VolunteerEvent.objects.filter(volunteer=profile).order_by("id").values_list("kind", "from_status", "to_status")
    )


def test_submit_stores_the_derived_identity_and_tells_the_village_station_and_township_office(cast, org, apps_):
    profile = VolunteerProfile.objects.get(id=apps_.profile.id)
    assert profile.status == ApplicationStatus.PENDING
    assert profile.user.name == "赵志愿"
    assert (profile.gender, str(profile.birth_date)) == ("M", "1990-03-07")
    assert profile.id_number == APPLICANT_ID
    assert profile.id_digest == id_digest("resident_id", APPLICANT_ID)
    assert mask_id(profile.id_number) == f"130681********{APPLICANT_ID[-4:]}"
    assert (profile.home_township_id, profile.home_village_id) == (org["township_a"].id, org["village_a1"].id)
    assert profile.guardian_consent_at is None and profile.privacy_consented_at is not None
    assert kinds(profile) == [("submitted", "", "pending")]
    told = Notification.objects.filter(kind=Kind.APPLICATION_SUBMITTED, params__applicant="赵*愿")
    assert sorted(told.values_list("recipient_id", flat=True)) == sorted([cast.station_staff_a1.id, cast.staff_a.id])
    assert [n.params for n in told] == [{"applicant": "赵*愿", "place": "桃园街道太平庄村"}] * 2


def test_under_14_cannot_sign_up_on_their_own(cast, org):
    user = make_user()
    thirteen = resident_id(years_ago(14, days=-1))  # turns 14 tomorrow
    with pytest.raises(DomainError) as caught:
        application_submit(
            user=user,
            data=application(
                village=org["village_a1"],
                categories=[org["category"]],
                id_number=thirteen,
                guardian_name="家长",
                guardian_phone="13900001111",
                guardian_consent=True,
            ),
        )
    assert caught.value.code == "too_young"
    assert str(caught.value.message) == (
        "未满14周岁不能自行注册志愿者，请由监护人陪同到所在村（社区）新时代文明实践站办理。"
    )
    assert not VolunteerProfile.objects.filter(user=user).exists()


def test_a_15_year_old_needs_a_guardians_name_phone_and_consent(cast, org):
    user = make_user()
    fifteen = resident_id(years_ago(15, days=3))
    base = {"village": org["village_a1"], "categories": [org["category"]], "id_number": fifteen}
    with pytest.raises(DomainError) as caught:
        application_submit(user=user, data=application(**base, guardian_name="家长", guardian_phone="13900001111"))
    assert (caught.value.code, str(caught.value.message)) == (
        "guardian_required",
        "未满18周岁须经监护人同意后才能注册。",
    )
    with pytest.raises(DomainError) as caught:
        application_submit(user=user, data=application(**base, guardian_consent=True))
    assert (caught.value.code, str(caught.value.message)) == ("guardian_required", "未满18周岁须填写监护人姓名。")
    assert VolunteerProfile.objects.count() == 2  # the cast's volunteers only
    before = timezone.now()
    profile = application_submit(
        user=user,
        data=application(**base, guardian_name="家长", guardian_phone="139 0000 1111", guardian_consent=True),
    )
    profile.refresh_from_db()
    assert profile.birth_date is not None and age_on(profile.birth_date) == 15
    assert (profile.guardian_name, profile.guardian_phone) == ("家长", "13900001111")
    assert profile.guardian_consent_at is not None
    assert before <= profile.guardian_consent_at <= timezone.now()


def test_an_adult_needs_no_guardian_and_none_is_kept(cast, org):
    profile = application_submit(
        user=make_user(),
        data=application(
            village=org["village_a1"],
            categories=[org["category"]],
            id_number=resident_id(years_ago(18)),
            guardian_name="不需要",
            guardian_phone="13900001111",
        ),
    )
    profile.refresh_from_db()
    assert (profile.guardian_name, profile.guardian_phone, profile.guardian_consent_at) == ("", None, None)


def test_a_second_account_with_the_same_id_gets_an_error_naming_no_one(cast, org, apps_):
    user = make_user(name="冒名者")
    # The same number typed differently: full-width digits and a space.
    typed = "".join(chr(ord(c) + 0xFEE0) for c in APPLICANT_ID[:10]) + " " + APPLICANT_ID[10:]
    with pytest.raises(DomainError) as caught:
        application_submit(
            user=user, data=application(village=org["village_b1"], categories=[org["category"]], id_number=typed)
        )
    assert caught.value.code == "id_duplicate"
    assert str(caught.value.message) == DUPLICATE_MESSAGE == str(DUPLICATE_ID)
    assert "赵" not in DUPLICATE_MESSAGE and "ZZV" not in DUPLICATE_MESSAGE
    assert not VolunteerProfile.objects.filter(user=user).exists()
    assert User.objects.get(id=user.id).name == "冒名者"


@pytest.mark.django_db(transaction=True)
def test_two_accounts_racing_with_one_id_leave_exactly_one_registration(require_postgres):
    from tests.organisation.factories import build_org_tree

    org = build_org_tree()
    users = [make_user(), make_user()]
    number = resident_id(years_ago(30), sequence="777")
    barrier = threading.Barrier(2)
    results: list[str] = []

    def run(user: User) -> None:
        try:
            barrier.wait()
            application_submit(
                user=user, data=application(village=org["village_a1"], categories=[org["category"]], id_number=number)
            )
            results.append("ok")
        except DomainError as exc:
            results.append(exc.code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["id_duplicate", "ok"]
    assert VolunteerProfile.objects.filter(id_digest=id_digest("resident_id", number)).count() == 1


def test_a_user_applies_once(cast, org, apps_):
    with pytest.raises(Conflict) as caught:
        application_submit(
            user=apps_.applicant,
            data=application(
                village=org["village_a1"], categories=[org["category"]], id_number=resident_id(years_ago(40))
            ),
        )
    assert caught.value.code == "already_applied"


def test_approve_gives_the_number_and_verification_and_tells_the_applicant(cast, org, apps_):
    profile = application_approve(profile=apps_.profile, actor=cast.station_staff_a1)
    profile.refresh_from_db()
    assert profile.status == ApplicationStatus.APPROVED
    assert profile.volunteer_number == f"ZZV{profile.id:07d}"
    assert profile.is_verified is True
    assert profile.verified_by_node_id == org["station_a1"].id
    assert profile.reviewed_by_id == cast.station_staff_a1.id
    assert kinds(profile) == [("submitted", "", "pending"), ("approved", "pending", "approved")]
    note = Notification.objects.get(recipient=apps_.applicant, kind=Kind.APPLICATION_APPROVED)
    assert note.params == {"number": profile.volunteer_number}
    with pytest.raises(Conflict) as caught:
        application_approve(profile=VolunteerProfile.objects.get(id=profile.id), actor=cast.staff_a)
    assert caught.value.code == "illegal_transition"


def test_approving_a_stale_copy_loses_the_race_and_changes_nothing(cast, org, apps_):
    stale = VolunteerProfile.objects.get(id=apps_.profile.id)
    application_reject(profile=apps_.profile, actor=cast.staff_a, reason="照片不清楚")
    with pytest.raises(Conflict) as caught:
        application_approve(profile=stale, actor=cast.dispatcher)
    assert caught.value.code == "stale_status"
    stale.refresh_from_db()
    assert (stale.status, stale.volunteer_number, stale.is_verified) == ("rejected", None, False)


@pytest.mark.parametrize("actor", ["staff_b", "sub_centre_staff", "resident", "volunteer"])
def test_staff_outside_the_village_and_non_staff_cannot_review(cast, org, apps_, actor):
    user = getattr(cast, actor)
    user = user.user if isinstance(user, VolunteerProfile) else user
    with pytest.raises(NotFound):
        application_approve(profile=apps_.profile, actor=user)
    with pytest.raises(NotFound):
        application_reject(profile=apps_.profile, actor=user, reason="不行")
    assert VolunteerProfile.objects.get(id=apps_.profile.id).status == "pending"


def test_staff_cannot_review_their_own_application(cast, org):
    profile = application_submit(
        user=cast.staff_a,
        data=application(village=org["village_a2"], categories=[org["category"]], id_number=resident_id(years_ago(35))),
    )
    with pytest.raises(Forbidden) as caught:
        application_approve(profile=profile, actor=cast.staff_a)
    assert caught.value.code == "own_application"


def test_reject_then_fix_and_resubmit_then_approve(cast, org, apps_):
    application_reject(profile=apps_.profile, actor=cast.staff_a, reason="  姓名与证件不一致  ")
    profile = VolunteerProfile.objects.get(id=apps_.profile.id)
    assert (profile.status, profile.rejection_reason) == ("rejected", "姓名与证件不一致")
    note = Notification.objects.get(recipient=apps_.applicant, kind=Kind.APPLICATION_REJECTED)
    assert note.params == {"reason": "姓名与证件不一致"}
    Notification.objects.all().delete()
    application_resubmit(
        profile=profile,
        actor=apps_.applicant,
        data=application(village=org["village_a2"], categories=[org["category"]], id_number="", name="赵志原"),
    )
    profile.refresh_from_db()
    assert (profile.status, profile.rejection_reason, profile.user.name) == ("pending", "", "赵志原")
    assert profile.id_number == APPLICANT_ID  # kept
    assert profile.home_village_id == org["village_a2"].id
    assert sorted(
        Notification.objects.filter(kind=Kind.APPLICATION_SUBMITTED).values_list("recipient_id", flat=True)
    ) == [cast.staff_a.id]  # village A2's station has no staff in the cast
    application_approve(profile=profile, actor=cast.staff_a)
    assert kinds(profile) == [
        ("submitted", "", "pending"),
        ("rejected", "pending", "rejected"),
        ("resubmitted", "rejected", "pending"),
        ("approved", "pending", "approved"),
    ]


def test_resubmitting_with_another_persons_id_is_refused(cast, org, apps_):
    application_reject(profile=apps_.profile, actor=cast.staff_a, reason="证件号有误")
    with pytest.raises(DomainError) as caught:
        application_resubmit(
            profile=VolunteerProfile.objects.get(id=apps_.profile.id),
            actor=apps_.applicant,
            data=application(village=org["village_a1"], categories=[org["category"]], id_number=OTHER_ID),
        )
    assert caught.value.code == "id_duplicate"
    assert VolunteerProfile.objects.get(id=apps_.profile.id).status == "rejected"


def test_a_reject_needs_a_reason(cast, apps_):
    with pytest.raises(DomainError) as caught:
        application_reject(profile=apps_.profile, actor=cast.staff_a, reason=" \u200b ")
    assert (caught.value.code, str(caught.value.message)) == ("reason_required", "不通过时必须填写原因。")


def test_each_reveal_writes_exactly_one_audit_row(cast, apps_):
    assert id_reveal(profile=apps_.profile, actor=cast.station_staff_a1, reason="核对身份") == APPLICANT_ID
    assert id_reveal(profile=apps_.profile, actor=cast.dispatcher, reason="办理保险") == APPLICANT_ID
    rows = list(IdReveal.objects.order_by("id").values_list("staff_id", "volunteer_id", "reason"))
    assert rows == [
        (cast.station_staff_a1.id, apps_.profile.id, "核对身份"),
        (cast.dispatcher.id, apps_.profile.id, "办理保险"),
    ]
    with pytest.raises(DomainError):
        id_reveal(profile=apps_.profile, actor=cast.dispatcher, reason="")
    with pytest.raises(NotFound):
        id_reveal(profile=apps_.profile, actor=cast.staff_b, reason="好奇")
    assert IdReveal.objects.count() == 2


def test_a_paused_volunteer_gets_no_offers_until_resumed(cast, org):
    request = submit(requester=cast.resident, category=org["category"], village=org["village_a1"])
    request_review(request=request, actor=cast.staff_a, accept=True)
    volunteer_pause(profile=cast.volunteer, actor=cast.volunteer.user)
    with pytest.raises(Conflict) as caught:
        volunteer_pause(profile=cast.volunteer, actor=cast.volunteer.user)
    assert caught.value.code == "already_paused"
    assert list(dispatchable_volunteers(user=cast.staff_a)) == [cast.other_volunteer]
    paused = VolunteerProfile.objects.get(id=cast.volunteer.id)
    with pytest.raises(DomainError) as refused:
        dispatch_directed(request=request, actor=cast.staff_a, volunteers=[paused])
    assert refused.value.code == "volunteer_unavailable"
    volunteer_resume(profile=paused, actor=cast.volunteer.user)
    offers = dispatch_directed(
        request=request, actor=cast.staff_a, volunteers=[VolunteerProfile.objects.get(id=paused.id)]
    )
    assert [o.volunteer_id for o in offers] == [paused.id]
    assert [k for k, _f, _t in kinds(paused)] == ["paused", "resumed"]


def test_a_pending_applicant_gets_no_offers(cast, org, apps_):
    request = submit(requester=cast.resident, category=org["category"], village=org["village_a1"])
    request_review(request=request, actor=cast.staff_a, accept=True)
    with pytest.raises(DomainError) as refused:
        dispatch_directed(request=request, actor=cast.staff_a, volunteers=[apps_.profile])
    assert refused.value.code == "volunteer_unavailable"
    assert apps_.profile.id not in set(dispatchable_volunteers(user=cast.dispatcher).values_list("id", flat=True))


def test_leaving_anonymises_the_account_and_keeps_the_number_and_records(cast, org, apps_):
    profile = application_approve(profile=apps_.profile, actor=cast.staff_a)
    number = profile.volunteer_number
    volunteer_leave(profile=profile, actor=apps_.applicant)
    user = User.objects.get(id=apps_.applicant.id)
    assert (user.name, user.phone, user.email, user.is_active) == ("已注销用户", "-", "", False)
    assert user.phone_digest == f"left:{user.id}"
    assert not user.has_usable_password()
    profile = VolunteerProfile.objects.get(id=profile.id)
    assert profile.status == "left" and profile.left_at is not None and profile.is_active is False
    assert (profile.id_number, profile.id_digest, profile.birth_date, profile.gender) == (None, None, None, "")
    assert (profile.emergency_contact_name, profile.emergency_contact_phone) == ("", None)
    assert (profile.guardian_name, profile.guardian_phone, profile.guardian_consent_at) == ("", None, None)
    assert profile.volunteer_number == number
    assert kinds(profile)[-1] == ("left", "approved", "left")
    # The same person may register again later: the document is free.
    again = application_submit(
        user=make_user(phone=APPLICANT_PHONE),
        data=application(village=org["village_a1"], categories=[org["category"]], id_number=APPLICANT_ID),
    )
    assert again.id != profile.id
    with pytest.raises(DomainError) as caught:
        id_reveal(profile=profile, actor=cast.dispatcher, reason="查")
    assert caught.value.code == "no_id_number"


def _text_columns() -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        tables = connection.introspection.table_names(cursor)
        found = []
        for table in tables:
            for column in connection.introspection.get_table_description(cursor, table):
                type_name = connection.introspection.get_field_type(column.type_code, column)
                if type_name in ("CharField", "TextField", "JSONField") or "char" in str(type_name).lower():
                    found.append((table, column.name))
    return found


def test_no_clear_id_number_or_phone_anywhere_in_the_database_after_sign_up(cast, org, apps_):
    minor = application_submit(
        user=make_user(phone="13977778888"),
        data=application(
            village=org["village_a1"],
            categories=[org["category"]],
            id_number=resident_id(years_ago(16), sequence="913"),
            guardian_name="孙家长",
            guardian_phone="13966667777",
            guardian_consent=True,
        ),
    )
    application_approve(profile=apps_.profile, actor=cast.staff_a)
    id_reveal(profile=apps_.profile, actor=cast.staff_a, reason="核对")
    secrets = [
        APPLICANT_ID,
        APPLICANT_ID[:17],  # without its check character
        OTHER_ID,
        minor.id_number,
        APPLICANT_PHONE,
        "13977778888",
        "13955556666",  # emergency contact
        "13966667777",  # guardian
    ]
    columns = _text_columns()
    assert ("volunteers_volunteerprofile", "id_number") in columns
    assert ("accounts_user", "phone") in columns
    quote = connection.ops.quote_name
    leaks = []
    with connection.cursor() as cursor:
        for table, column in columns:
            for secret in secrets:
                cursor.execute(
                    f"SELECT COUNT(*) FROM {quote(table)} WHERE CAST({quote(column)} AS TEXT) LIKE %s",  # noqa: S608
                    [f"%{secret}%"],
                )
                if cursor.fetchone()[0]:
                    leaks.append((table, column, secret))
    assert leaks == []


def test_submitting_twice_in_a_row_by_the_same_user_is_one_application(cast, org):
    user = make_user()
    data = application(village=org["village_a1"], categories=[org["category"]], id_number=resident_id(years_ago(50)))
    application_submit(user=user, data=data)
    with pytest.raises(Conflict):
        application_submit(user=user, data=data)
    assert VolunteerProfile.objects.filter(user=user).count() == 1
    assert VolunteerEvent.objects.filter(volunteer__user=user).count() == 1
    submitted_at = VolunteerProfile.objects.get(user=user).submitted_at
    assert submitted_at is not None and timezone.now() - submitted_at < timedelta(minutes=1)
