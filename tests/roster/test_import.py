"""The import itself, called as the task calls it: what a row becomes, why a row is refused,
idempotency, resuming after a crash, and that no phone or ID number is left in clear."""

from datetime import date, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from apps.accounts.models import User
from apps.jobs.models import Job
from apps.notifications.models import Kind, Notification
from apps.roster import services
from apps.roster.models import ImportJob, ImportRowError, JobStatus
from apps.roster.services import import_job_create, roster_import_run, roster_imports_resume_stalled
from apps.volunteers.identity import id_digest
from apps.volunteers.models import (
    ApplicationStatus,
    MatchableVolunteer,
    VolunteerEvent,
    VolunteerProfile,
    category_bits,
    skill_bits,
)
from tests.accounts.factories import make_user
from tests.roster.factories import id_number, person, phone, workbook


def upload(user, rows, django_capture_on_commit_callbacks, name="名册.xlsx") -> ImportJob:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = import_job_create(uploader=user, file_name=name, data=workbook(rows))
    # Nothing waits for the commit: the import's job row is written with it, for the job relay.
    assert callbacks == []
    assert list(Job.objects.filter(task="roster.run_import", subject_id=job.id).values_list("state", flat=True)) == [
        "pending"
    ]
    return job


def run(job: ImportJob) -> ImportJob:
    roster_import_run(job_id=job.id)
    job.refresh_from_db()
    return job


def errors_of(job: ImportJob) -> list[tuple[int, str, str, dict]]:
    return list(job.row_errors.order_by("row", "id").values_list("row", "column", "code", "params"))


def test_an_imported_row_is_an_approved_verified_numbered_volunteer_with_an_unusable_password(
    cast, org, django_capture_on_commit_callbacks
):
    row = person(
        1, categories="便民服务、环境治理", skills="助老陪护，急救", political_status="中共党员", occupation="退休教师"
    )
    job = run(upload(cast.staff_a, [row], django_capture_on_commit_callbacks))

    assert (job.status, job.total, job.done, job.imported, job.skipped_duplicates, job.errors) == (
        JobStatus.DONE, 1, 1, 1, 0, 0,
    )  # fmt: skip
    assert job.content is None  # the clear roster is not kept once imported
    profile = VolunteerProfile.objects.get(id_digest__isnull=False, user__name="志愿者1")
    assert profile.status == ApplicationStatus.APPROVED
    assert profile.is_verified is True
    assert profile.verified_by_node == org["office_a"]
    assert profile.reviewed_by == cast.staff_a
    assert profile.volunteer_number == f"ZZV{profile.id:07d}"
    assert profile.id_number == row["id_number"]
    assert profile.birth_date == date(1961, 2, 2)
    assert profile.gender == "M"
    assert (profile.home_township, profile.home_village) == (org["township_a"], org["village_a1"])
    assert sorted(profile.categories.values_list("code", flat=True)) == ["convenience", "environment"]
    assert profile.skills == ["elder_care", "first_aid"]
    # Offered work from now on: the ranking's row is written with the batch.
    matchable = MatchableVolunteer.objects.get(volunteer=profile)
    assert matchable.skill_bits == skill_bits(["elder_care", "first_aid"])
    assert matchable.category_bits == category_bits([org["category"].id, org["other_category"].id])
    assert (profile.political_status, profile.occupation) == ("cpc", "退休教师")
    assert profile.user.phone == row["phone"]
    assert profile.user.has_usable_password() is False
    assert (profile.user.home_township, profile.user.home_village) == (org["township_a"], org["village_a1"])
    assert list(profile.events.values_list("kind", "actor_id", "reason")) == [
        (VolunteerEvent.Kind.IMPORTED, cast.staff_a.id, f"#{job.id} 名册.xlsx")
    ]
    [notification] = Notification.objects.filter(recipient=cast.staff_a, kind=Kind.ROSTER_IMPORTED)
    assert notification.params == {"file": "名册.xlsx", "imported": 1, "errors": 0, "job_id": job.id}
    assert notification.link == f"/s/roster/{job.id}/"


def test_forms_people_write_are_accepted(cast, org, django_capture_on_commit_callbacks):
    """Full-width digits, +86, spaces, a lower-case x, a village without 村, the ID type written
    out, categories separated by commas, and numbers Excel stored as numbers (the phone)."""
    x_id = id_number(born=date(1975, 3, 3), sequence=12)
    while not x_id.endswith("X"):
        x_id = id_number(born=date(1975, 3, 3), sequence=int(x_id[14:17]) + 1)
    rows = [
        person(1, phone="+86 158 0000 0001", id_type="居民身份证"),
        person(2, id_number=x_id.lower(), village="东庄头"),
        person(3, phone=15800000003, categories="便民服务,环境治理"),
        person(4, id_number=person(4)["id_number"].translate(str.maketrans("0123456789", "０１２３４５６７８９"))),
    ]
    job = run(upload(cast.staff_a, rows, django_capture_on_commit_callbacks))
    assert errors_of(job) == []
    assert job.imported == 4
    assert VolunteerProfile.objects.get(user__name="志愿者2").home_village == org["village_a2"]
    assert VolunteerProfile.objects.get(user__name="志愿者2").id_number == x_id
    assert User.objects.get(name="志愿者1").phone == "15800000001"
    assert User.objects.get(name="志愿者3").phone == "15800000003"


def test_every_kind_of_bad_row_is_reported_with_its_row_column_and_reason(
    cast, org, django_capture_on_commit_callbacks
):
    minor = id_number(born=timezone.localdate().replace(year=timezone.localdate().year - 16), sequence=3)
    rows = [
        person(1),  # row 2: fine
        person(2, name=""),  # row 3
        person(3, phone="1380013"),  # row 4
        person(4, id_number=person(4)["id_number"][:17] + ("0" if person(4)["id_number"][17] != "0" else "1")),
        person(5, id_number="13068119800517001"),  # 17 digits
        person(6, id_number="130681" + "19800230" + "0011"),  # 30 February
        person(7, id_number=minor),
        person(8, township="不存在镇"),
        person(9, village="不存在村"),
        person(10, categories="便民服务、跳广场舞"),
        person(11, id_number=person(1)["id_number"]),  # the ID of row 2
        person(12, phone=phone(1)),  # the phone of row 2
        person(13, township="码头镇", village="码头村"),  # outside 桃园街道
        person(14, id_type="军官证"),
        person(15, id_number=int(person(15)["id_number"][:15])),  # stored by Excel as a number
        person(16, political_status="无党派"),
        person(17, skills="唱歌"),
        person(18, occupation="很" * 51),
        person(19, id_type="护照", id_number="E12345678"),  # a passport without a birth date
        person(20, id_type="护照", id_number="E12345679", birth_date="1990-01-31", gender="男"),  # fine
    ]
    job = run(upload(cast.staff_a, rows, django_capture_on_commit_callbacks))

    assert errors_of(job) == [
        (3, "name", "required", {}),
        (4, "phone", "invalid_phone", {}),
        (5, "id_number", "id_checksum", {}),
        (6, "id_number", "id_length", {}),
        (7, "id_number", "id_birth_date", {}),
        (8, "id_number", "minor", {}),
        (9, "township", "township_unknown", {"value": "不存在镇"}),
        (10, "village", "village_unknown", {"value": "不存在村", "township": "桃园街道"}),
        (11, "categories", "category_unknown", {"value": "跳广场舞"}),
        (12, "id_number", "duplicate_id_in_file", {"row": 2}),
        (13, "phone", "duplicate_phone_in_file", {"row": 2}),
        (14, "village", "out_of_area", {}),
        (15, "id_type", "id_type", {}),
        (16, "id_number", "id_numeric", {}),
        (17, "political_status", "political_status_unknown", {}),
        (18, "skills", "skill_unknown", {"value": "唱歌"}),
        (19, "occupation", "too_long", {"max": 50}),
        (20, "birth_date", "birth_date_required", {}),
    ]
    assert (job.total, job.imported, job.errors, job.skipped_duplicates) == (20, 2, 18, 0)
    passport = VolunteerProfile.objects.get(id_type="passport")
    assert (passport.birth_date, passport.gender, passport.id_number) == (date(1990, 1, 31), "M", "E12345679")


def test_a_row_with_several_bad_cells_lists_each_and_counts_once(cast, org, django_capture_on_commit_callbacks):
    job = run(upload(cast.staff_a, [person(1, name="", phone="12", categories="")], django_capture_on_commit_callbacks))
    assert errors_of(job) == [
        (2, "name", "required", {}),
        (2, "phone", "invalid_phone", {}),
        (2, "categories", "required", {}),
    ]
    assert (job.errors, job.imported) == (1, 0)


def test_blank_rows_and_the_template_example_row_are_not_counted(cast, org, django_capture_on_commit_callbacks):
    rows = [person(1, name="（示例）张三"), {}, person(2), {}, person(3)]
    job = run(upload(cast.staff_a, rows, django_capture_on_commit_callbacks))
    assert (job.total, job.imported, job.errors) == (2, 2, 0)


@pytest.mark.parametrize(
    ("uploader", "row", "expected"),
    [
        # A village station imports its own village only.
        ("station_staff_a1", {"village": "东庄头村"}, [(2, "village", "out_of_area", {})]),
        ("station_staff_a1", {"village": ""}, [(2, "township", "out_of_area", {})]),
        ("station_staff_a1", {"village": "太平庄村"}, []),
        ("staff_b", {}, [(2, "village", "out_of_area", {})]),
        # A sub-centre imports city-wide, in its own fields only.
        (
            "sub_centre_staff",
            {"categories": "环境治理"},
            [(2, "categories", "category_out_of_area", {"value": "环境治理"})],
        ),
        ("sub_centre_staff", {"township": "码头镇", "village": "码头村"}, []),
        ("dispatcher", {"township": "码头镇", "village": "码头村", "categories": "环境治理"}, []),
        ("admin", {"township": "码头镇", "village": ""}, []),
    ],
)
def test_rows_outside_the_importers_area_are_refused(
    cast, org, django_capture_on_commit_callbacks, uploader, row, expected
):
    job = run(upload(getattr(cast, uploader), [person(1, **row)], django_capture_on_commit_callbacks))
    assert errors_of(job) == expected
    assert job.imported == (0 if expected else 1)


def test_the_same_file_twice_imports_no_one_the_second_time(cast, org, django_capture_on_commit_callbacks):
    rows = [person(n) for n in range(1, 8)] + [person(99, phone="1")]
    first = run(upload(cast.staff_a, rows, django_capture_on_commit_callbacks))
    profiles = VolunteerProfile.objects.count()
    users = User.objects.count()

    second = run(upload(cast.staff_a, rows, django_capture_on_commit_callbacks))

    assert (first.imported, first.skipped_duplicates, first.errors) == (7, 0, 1)
    assert (second.imported, second.skipped_duplicates, second.errors) == (0, 7, 1)
    assert (VolunteerProfile.objects.count(), User.objects.count()) == (profiles, users)
    assert VolunteerEvent.objects.filter(kind=VolunteerEvent.Kind.IMPORTED).count() == 7


def test_a_registered_person_is_skipped_whoever_imported_them(cast, org, django_capture_on_commit_callbacks):
    VolunteerProfile.objects.filter(id=cast.volunteer.id).update(
        id_type="resident_id", id_digest=id_digest("resident_id", person(1)["id_number"])
    )
    job = run(upload(cast.staff_a, [person(1, phone=phone(500))], django_capture_on_commit_callbacks))
    assert (job.imported, job.skipped_duplicates, job.errors) == (0, 1, 0)
    assert not User.objects.filter(name="志愿者1").exists()


def test_a_residents_phone_gets_the_profile_on_their_own_account(cast, org, django_capture_on_commit_callbacks):
    users = User.objects.count()
    job = run(upload(cast.staff_a, [person(1, phone=cast.resident.phone)], django_capture_on_commit_callbacks))
    assert (job.imported, job.errors) == (1, 0)
    assert User.objects.count() == users
    profile = VolunteerProfile.objects.get(user=cast.resident)
    assert profile.is_verified is True
    assert profile.user.name == "王秀兰"  # the account's own name and password are left alone
    cast.resident.refresh_from_db()
    assert cast.resident.has_usable_password() is True


def test_a_phone_of_another_volunteer_is_an_error(cast, org, django_capture_on_commit_callbacks):
    job = run(upload(cast.staff_a, [person(1, phone=cast.volunteer.user.phone)], django_capture_on_commit_callbacks))
    assert errors_of(job) == [(2, "phone", "phone_taken", {})]
    assert (job.imported, job.errors) == (0, 1)


def test_a_crashed_import_resumes_after_its_last_batch_without_duplicates(
    cast, org, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(services, "BATCH_SIZE", 3)
    rows = [person(n) for n in range(1, 11)] + [person(11, phone="x")]
    job = upload(cast.staff_a, rows, django_capture_on_commit_callbacks)
    real_commit = services._commit_batch
    batches: list[int] = []

    def crash_on_the_third_batch(**kwargs):
        if len(batches) == 2:
            raise RuntimeError("the worker died")
        batches.append(kwargs["offset"])
        return real_commit(**kwargs)

    monkeypatch.setattr(services, "_commit_batch", crash_on_the_third_batch)
    with pytest.raises(RuntimeError):
        roster_import_run(job_id=job.id)
    job.refresh_from_db()
    assert (job.status, job.done, job.imported) == (JobStatus.RUNNING, 6, 6)
    monkeypatch.setattr(services, "_commit_batch", real_commit)

    # Another delivery of the same message finds the job running and leaves it alone.
    assert roster_import_run(job_id=job.id) == "not queued"
    # The sweep sees the heartbeat stop and gives the job to a new run.
    ImportJob.objects.filter(id=job.id).update(heartbeat_at=timezone.now() - timedelta(minutes=6))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert roster_imports_resume_stalled() == 1
    assert callbacks == []
    assert Job.objects.filter(task="roster.run_import", subject_id=job.id, state="pending").count() == 1
    job = run(job)

    assert (job.status, job.total, job.done, job.imported, job.errors, job.attempts) == (
        JobStatus.DONE, 11, 11, 10, 1, 2,
    )  # fmt: skip
    assert VolunteerProfile.objects.filter(user__name__startswith="志愿者").count() == 10
    assert ImportRowError.objects.filter(job=job).count() == 1


def test_a_run_that_lost_its_job_to_another_commits_nothing_more(cast, org, django_capture_on_commit_callbacks):
    job = upload(cast.staff_a, [person(1)], django_capture_on_commit_callbacks)
    token = services._claim(job.id)
    assert token is not None
    ImportJob.objects.filter(id=job.id).update(claim="someone-else")
    assert services._commit_batch(job=job, token=token, offset=0, batch=[]) is False
    assert ImportJob.objects.get(id=job.id).done == 0


def test_an_import_that_keeps_crashing_fails_after_three_runs(cast, org, django_capture_on_commit_callbacks):
    job = upload(cast.staff_a, [person(1)], django_capture_on_commit_callbacks)
    ImportJob.objects.filter(id=job.id).update(attempts=3)
    assert roster_import_run(job_id=job.id) == "failed: crashed"
    job.refresh_from_db()
    assert (job.status, job.failure_code, job.content, job.imported) == (JobStatus.FAILED, "crashed", None, 0)


def test_the_sweep_leaves_a_fresh_or_finished_job_alone(cast, org, django_capture_on_commit_callbacks):
    fresh = upload(cast.staff_a, [person(1)], django_capture_on_commit_callbacks)
    done = run(upload(cast.staff_a, [person(2)], django_capture_on_commit_callbacks))
    ImportJob.objects.filter(id=done.id).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    lost = upload(cast.staff_a, [person(3)], django_capture_on_commit_callbacks)
    ImportJob.objects.filter(id=lost.id).update(created_at=timezone.now() - timedelta(minutes=2))
    with django_capture_on_commit_callbacks(execute=False):
        assert roster_imports_resume_stalled() == 1
    assert ImportJob.objects.get(id=fresh.id).heartbeat_at is None
    assert ImportJob.objects.get(id=lost.id).heartbeat_at is not None


def test_no_phone_or_id_number_is_left_in_clear_in_any_text_column(
    require_postgres, cast, org, django_capture_on_commit_callbacks
):
    rows = [person(n) for n in range(1, 21)] + [person(21, township="无此镇"), person(22, id_number="123")]
    job = run(upload(cast.staff_a, rows, django_capture_on_commit_callbacks))
    assert (job.imported, job.errors) == (20, 2)
    secrets = [r["phone"] for r in rows] + [r["id_number"] for r in rows[:21]]
    # Every text-like column of every table of the project, read as text.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() "
            "AND data_type IN ('character varying', 'text', 'json', 'jsonb', 'character')"
        )
        columns = cursor.fetchall()
        assert len(columns) > 50
        found = []
        for table, column in columns:
            cursor.execute(
                f'SELECT COUNT(*) FROM "{table}" WHERE "{column}"::text LIKE ANY(%s)',  # noqa: S608 — catalogue names
                [[f"%{secret}%" for secret in secrets]],
            )
            if cursor.fetchone()[0]:
                found.append(f"{table}.{column}")
    assert found == []


def test_an_import_by_a_staff_member_who_left_refuses_every_row(cast, org, django_capture_on_commit_callbacks):
    """Area is read when the import runs: an uploader deactivated meanwhile covers nothing."""
    job = upload(cast.staff_a, [person(1)], django_capture_on_commit_callbacks)
    User.objects.filter(id=cast.staff_a.id).update(is_active=False)
    job = run(job)
    assert errors_of(job) == [(2, "village", "out_of_area", {})]


def test_a_deactivated_users_id_is_still_a_registered_person(cast, org, django_capture_on_commit_callbacks):
    run(upload(cast.staff_a, [person(1)], django_capture_on_commit_callbacks))
    User.objects.filter(name="志愿者1").update(is_active=False)
    other = make_user(name="别人")
    job = run(upload(cast.staff_a, [person(1, phone=other.phone)], django_capture_on_commit_callbacks))
    assert (job.imported, job.skipped_duplicates) == (0, 1)
