"""Importing a roster of existing volunteers: the upload, the import itself (run by a Celery
task), and the sweep that resumes an import a lost worker left behind.

The import validates every row in Python first (the whole file, so that duplicates inside it
are found whatever their distance), then writes the accepted rows in batches, each batch in a
transaction of its own with the job's counters, so the progress page moves as batches commit
and a run that dies resumes after the last committed batch, never writing a row twice."""

import logging
import secrets
import uuid
from datetime import timedelta
from typing import Any

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.db import IntegrityError, transaction
from django.db.models import CharField, F, Q, Value
from django.db.models.functions import Cast, Coalesce, Concat, LPad
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.accounts.areas import area_of
from apps.accounts.models import User
from apps.core.errors import DomainError
from apps.jobs.services import job_enqueue
from apps.notifications.models import Kind
from apps.notifications.services import notify
from apps.volunteers.matchable import matchable_refresh
from apps.volunteers.models import ApplicationStatus, VolunteerEvent, VolunteerProfile

from . import inserts
from .models import ImportJob, ImportRowError, JobStatus
from .reading import MAX_ROWS, CleanRow, Lookups, RosterFileError, RowError, RowValidator, check_upload, iter_data_rows

logger = logging.getLogger(__name__)

# By name: tasks.py imports this module.
IMPORT_TASK = "roster.run_import"
BATCH_SIZE = 5000
# A running import writes a heartbeat with every batch; one silent this long has lost its worker.
STALL_AFTER = timedelta(minutes=5)
# A queued import not started this long after its upload (or its last re-enqueue) lost its message.
QUEUED_TOO_LONG = timedelta(minutes=1)
MAX_ATTEMPTS = 3
BATCH_RETRIES = 3


def import_job_create(*, uploader: User, file_name: str, data: bytes) -> ImportJob:
    """Store an uploaded roster as a queued import job of the uploader's unit and enqueue the
    import after the commit. Precondition: the uploader is staff with an area. Raises
    :class:`RosterFileError` (nothing stored) for what cannot be a roster: not an .xlsx, too
    large, wrong headers, no data row."""
    if area_of(uploader).is_empty:
        raise DomainError(_("只有实践阵地的工作人员可以导入名册。"), code="not_staff")
    check_upload(data)
    with transaction.atomic():
        job = ImportJob.objects.create(
            uploaded_by=uploader,
            node_id=uploader.staff_node_id,
            file_name=file_name[:200],
            content=data,
        )
        job_enqueue(IMPORT_TASK, job.id)
    return job


def _unusable_password() -> str:
    """What ``make_password(None)`` stores (the prefix that ``has_usable_password`` checks and
    random characters), from one call to the system's random source instead of forty: this is
    a tenth of the import's time otherwise."""
    return UNUSABLE_PASSWORD_PREFIX + secrets.token_urlsafe(30)


def _claim(job_id: int) -> str | None:
    token = uuid.uuid4().hex
    now = timezone.now()
    claimed = ImportJob.objects.filter(id=job_id, status=JobStatus.QUEUED).update(
        status=JobStatus.RUNNING,
        claim=token,
        attempts=F("attempts") + 1,
        started_at=Coalesce(F("started_at"), Value(now)),
        heartbeat_at=now,
    )
    return token if claimed else None


def _fail(*, job_id: int, token: str, code: str, params: dict[str, Any] | None = None) -> None:
    ImportJob.objects.filter(id=job_id, claim=token).update(
        status=JobStatus.FAILED,
        failure_code=code,
        failure_params=params or {},
        content=None,
        claim="",
        finished_at=timezone.now(),
    )


def roster_import_run(*, job_id: int) -> str:
    """Run (or resume) the import of a queued job; returns what happened, for the task's log.

    Idempotent: the job is claimed with a conditional UPDATE (only a queued job is taken, with a
    fresh token), every batch commits only while that token still holds the job and only at the
    row where the last committed batch stopped, and a person already registered (same ID) is
    skipped, so the same file imported twice adds no one the second time.

    Side effects, per batch: users (unusable password; they set one by SMS code), approved and
    verified volunteer profiles numbered ``ZZV…`` with their categories, an IMPORTED event each,
    the refused rows' reasons and the job's counters. At the end: the stored file is dropped
    and the uploader gets a ROSTER_IMPORTED notification."""
    token = _claim(job_id)
    if token is None:
        return "not queued"
    job = ImportJob.objects.select_related("uploaded_by", "uploaded_by__staff_node").get(id=job_id)
    if job.attempts > MAX_ATTEMPTS:
        _fail(job_id=job_id, token=token, code="crashed")
        return "failed: crashed"
    uploader = job.uploaded_by
    validator = RowValidator(lookups=Lookups(), area=area_of(uploader))
    results: list[CleanRow | list[RowError]] = []
    try:
        rows = 0
        for raw in iter_data_rows(bytes(job.content or b"")):
            rows += 1
            if rows <= MAX_ROWS:
                results.append(validator.validate(raw))
        if rows > MAX_ROWS:
            raise RosterFileError("too_many_rows", max=MAX_ROWS, rows=rows)
    except RosterFileError as exc:
        _fail(job_id=job_id, token=token, code=exc.code, params=exc.params)
        return f"failed: {exc.code}"
    ImportJob.objects.filter(id=job_id, claim=token).update(total=len(results), heartbeat_at=timezone.now())

    for offset in range(job.done, len(results), BATCH_SIZE):
        for attempt in range(BATCH_RETRIES):
            try:
                if not _commit_batch(job=job, token=token, offset=offset, batch=results[offset : offset + BATCH_SIZE]):
                    return "lost the job to another run"
                break
            except IntegrityError:
                # Someone registered one of these people between our check and our insert (a
                # sign-up, or another import): the batch rolled back; checking again skips them.
                if attempt == BATCH_RETRIES - 1:
                    raise
                logger.info("roster import %s: batch at %s collided, retrying", job_id, offset)

    with transaction.atomic():
        finished = ImportJob.objects.filter(id=job_id, claim=token, status=JobStatus.RUNNING).update(
            status=JobStatus.DONE, content=None, claim="", finished_at=timezone.now()
        )
        if not finished:
            return "lost the job to another run"
        job.refresh_from_db()
        notify(
            recipient_ids=[uploader.id],
            kind=Kind.ROSTER_IMPORTED,
            params={"file": job.file_name, "imported": job.imported, "errors": job.errors, "job_id": job.id},
            link=reverse("roster:job", args=[job.id]),
        )
    return f"done: {job.imported} imported, {job.skipped_duplicates} already registered, {job.errors} errors"


def _commit_batch(*, job: ImportJob, token: str, offset: int, batch: list[CleanRow | list[RowError]]) -> bool:
    """Write one batch and move the job's counters past it, in one transaction. False if this
    run no longer holds the job (the sweep gave it to another) or the batch is already done."""
    with transaction.atomic():
        current = ImportJob.objects.select_for_update().filter(id=job.id).values_list("claim", "done").first()
        if current is None or current != (token, offset):
            return False
        errors: list[RowError] = []
        clean: list[CleanRow] = []
        for result in batch:
            if isinstance(result, CleanRow):
                clean.append(result)
            else:
                errors.extend(result)

        registered = set(
            VolunteerProfile.objects.filter(id_digest__in=[row.id_digest for row in clean]).values_list(
                "id_digest", flat=True
            )
        )
        existing_users = {
            digest: (user_id, profile_id)
            for user_id, digest, profile_id in User.objects.filter(
                phone_digest__in=[row.phone_digest for row in clean]
            ).values_list("id", "phone_digest", "volunteer_profile__id")
        }
        skipped = 0
        new_rows: list[CleanRow] = []
        attach: list[tuple[CleanRow, int]] = []
        for row in clean:
            if row.id_digest in registered:
                skipped += 1
                continue
            existing = existing_users.get(row.phone_digest)
            if existing is None:
                new_rows.append(row)
            elif existing[1] is not None:
                errors.append(RowError(row.row, "phone", "phone_taken", {}))
            else:
                attach.append((row, existing[0]))

        owners = _write_new_users(new_rows) + attach
        reason = f"#{job.id} {job.file_name}"[:200]
        if inserts.supported():
            imported = _write_profiles_postgres(job=job, owners=owners, reason=reason)
        else:
            imported = _write_profiles_orm(job=job, owners=owners, reason=reason)
        ImportRowError.objects.bulk_create(
            [ImportRowError(job_id=job.id, row=e.row, column=e.column, code=e.code, params=e.params) for e in errors]
        )
        ImportJob.objects.filter(id=job.id).update(
            done=offset + len(batch),
            imported=F("imported") + imported,
            skipped_duplicates=F("skipped_duplicates") + skipped,
            errors=F("errors") + len({e.row for e in errors}),
            heartbeat_at=timezone.now(),
        )
    return True


def volunteer_number(pk: int) -> str:
    """What ``assign_volunteer_number`` writes for row ``pk``: ``ZZV`` and the id in 7 digits
    (PostgreSQL's ``lpad``, which also cuts a longer text to 7)."""
    return "ZZV" + str(pk).rjust(7, "0")[:7]


def _write_new_users(rows: list[CleanRow]) -> list[tuple[CleanRow, int]]:
    """The accounts of people new to the platform: (row, user id) each."""
    if not rows:
        return []
    if inserts.supported():
        ids = inserts.allocate_ids(User, len(rows))
        inserts.RowInserter(
            User(), ("id", "phone", "phone_digest", "name", "password", "home_township_id", "home_village_id")
        ).insert(
            (pk, row.phone, row.phone_digest, row.name, _unusable_password(), row.township_id, row.village_id)
            for pk, row in zip(ids, rows, strict=True)
        )
        return list(zip(rows, ids, strict=True))
    users = User.objects.bulk_create(
        [
            User(
                phone=row.phone,
                phone_digest=row.phone_digest,
                name=row.name,
                password=_unusable_password(),
                home_township_id=row.township_id,
                home_village_id=row.village_id,
            )
            for row in rows
        ]
    )
    return [(row, user.id) for row, user in zip(rows, users, strict=True)]


def _profile_template(job: ImportJob) -> VolunteerProfile:
    """What every imported profile shares: approved and verified by the importing unit."""
    now = timezone.now()
    return VolunteerProfile(
        status=ApplicationStatus.APPROVED,
        submitted_at=now,
        reviewed_at=now,
        reviewed_by_id=job.uploaded_by_id,
        verified_by_node_id=job.node_id,
        is_verified=True,
    )


def _event_template(job: ImportJob, reason: str) -> VolunteerEvent:
    return VolunteerEvent(kind=VolunteerEvent.Kind.IMPORTED, actor_id=job.uploaded_by_id, reason=reason)


_PROFILE_COLUMNS = (
    "id",
    "user_id",
    "volunteer_number",
    "gender",
    "birth_date",
    "id_type",
    "id_number",
    "id_digest",
    "home_township_id",
    "home_village_id",
    "skills",
    "political_status",
    "occupation",
)


def _write_profiles_postgres(*, job: ImportJob, owners: list[tuple[CleanRow, int]], reason: str) -> int:
    """Profiles (numbered as they are written), their categories and IMPORTED events, one
    INSERT per table. Returns how many profiles."""
    if not owners:
        return 0
    ids = inserts.allocate_ids(VolunteerProfile, len(owners))
    inserts.RowInserter(_profile_template(job), _PROFILE_COLUMNS).insert(
        (
            pk,
            user_id,
            volunteer_number(pk),
            row.gender,
            row.birth_date,
            row.id_type,
            row.id_number,
            row.id_digest,
            row.township_id,
            row.village_id,
            list(row.skills),
            row.political_status,
            row.occupation,
        )
        for pk, (row, user_id) in zip(ids, owners, strict=True)
    )
    inserts.RowInserter(VolunteerProfile.categories.through(), ("volunteerprofile_id", "servicecategory_id")).insert(
        (pk, category_id) for pk, (row, _user) in zip(ids, owners, strict=True) for category_id in row.category_ids
    )
    inserts.RowInserter(_event_template(job, reason), ("volunteer_id",)).insert((pk,) for pk in ids)
    matchable_refresh(volunteer_ids=ids)  # imported approved and verified: offered work from now on
    return len(ids)


def _write_profiles_orm(*, job: ImportJob, owners: list[tuple[CleanRow, int]], reason: str) -> int:
    """The same as :func:`_write_profiles_postgres` through the ORM, for other databases."""
    template = _profile_template(job)
    profiles = VolunteerProfile.objects.bulk_create(
        [
            VolunteerProfile(
                user_id=user_id,
                status=template.status,
                gender=row.gender,
                birth_date=row.birth_date,
                id_type=row.id_type,
                id_number=row.id_number,
                id_digest=row.id_digest,
                home_township_id=row.township_id,
                home_village_id=row.village_id,
                skills=list(row.skills),
                political_status=row.political_status,
                occupation=row.occupation,
                submitted_at=template.submitted_at,
                reviewed_at=template.reviewed_at,
                reviewed_by_id=template.reviewed_by_id,
                verified_by_node_id=template.verified_by_node_id,
                is_verified=True,
            )
            for row, user_id in owners
        ]
    )
    profile_ids = [profile.id for profile in profiles]
    Through = VolunteerProfile.categories.through
    Through.objects.bulk_create(
        [
            Through(volunteerprofile_id=profile.id, servicecategory_id=category_id)
            for profile, (row, _user) in zip(profiles, owners, strict=True)
            for category_id in row.category_ids
        ]
    )
    VolunteerEvent.objects.bulk_create(
        [
            VolunteerEvent(
                volunteer_id=pk, kind=VolunteerEvent.Kind.IMPORTED, actor_id=job.uploaded_by_id, reason=reason
            )
            for pk in profile_ids
        ]
    )
    # The same number as assign_volunteer_number, for the whole batch in one UPDATE.
    VolunteerProfile.objects.filter(id__in=profile_ids, volunteer_number__isnull=True).update(
        volunteer_number=Concat(Value("ZZV"), LPad(Cast(F("id"), output_field=CharField()), 7, Value("0")))
    )
    matchable_refresh(volunteer_ids=profile_ids)
    return len(profile_ids)


def roster_imports_resume_stalled() -> int:
    """Periodic sweep: re-enqueue imports whose message or worker was lost — queued ones not
    started within a minute, running ones whose heartbeat stopped. A stalled running import
    goes back to queued with its claim cleared, so if its old run is still alive it stops at
    its next batch; the new run resumes after the last committed batch. Returns how many."""
    now = timezone.now()
    stalled_queued = Q(status=JobStatus.QUEUED, created_at__lt=now - QUEUED_TOO_LONG) & (
        Q(heartbeat_at__isnull=True) | Q(heartbeat_at__lt=now - QUEUED_TOO_LONG)
    )
    stalled_running = Q(status=JobStatus.RUNNING, heartbeat_at__lt=now - STALL_AFTER)
    count = 0
    for job_id in ImportJob.objects.filter(stalled_queued | stalled_running).values_list("id", flat=True):
        with transaction.atomic():
            requeued = (
                ImportJob.objects.filter(id=job_id)
                .filter(stalled_queued | stalled_running)
                .update(status=JobStatus.QUEUED, claim="", heartbeat_at=now)
            )
            if requeued:
                job_enqueue(IMPORT_TASK, job_id)
                count += 1
    return count
