"""Reads for the roster pages, scoped to the user.

Import jobs belong to the unit that uploaded them: staff see the jobs of their own node and of
the nodes under it (a township office sees its stations' imports; the centre sees all), an
administrator sees every job, anyone else none. Rosters for export are the approved volunteers
the staff member may see (``volunteers_visible_to``, i.e. ``area_of``)."""

from django.db.models import QuerySet

from apps.accounts.models import User
from apps.core.errors import NotFound
from apps.volunteers.models import ApplicationStatus, VolunteerProfile
from apps.volunteers.selectors import volunteers_visible_to

from .models import ImportJob, ImportRowError


def jobs_visible_to(*, user: User) -> QuerySet[ImportJob]:
    jobs = ImportJob.objects.select_related("uploaded_by", "node").defer("content")
    if not user.is_active or not user.is_org_staff:
        return jobs.none()
    if user.is_superuser:
        return jobs
    assert user.staff_node is not None
    return jobs.filter(node__path__startswith=user.staff_node.path)


def job_for_user(*, user: User, job_id: int) -> ImportJob:
    """Raises NotFound (404) for a job the user may not see."""
    job = jobs_visible_to(user=user).filter(id=job_id).first()
    if job is None:
        raise NotFound(f"import job {job_id}")
    return job


def job_errors(*, job: ImportJob) -> QuerySet[ImportRowError]:
    return ImportRowError.objects.filter(job=job).order_by("row", "id")


def roster_of_area(*, user: User, township_id: int | None, village_id: int | None) -> QuerySet[VolunteerProfile]:
    """The registered (approved) volunteers the user may see, narrowed to a township and village."""
    volunteers = volunteers_visible_to(user=user).filter(status=ApplicationStatus.APPROVED)
    if township_id is not None:
        volunteers = volunteers.filter(home_township_id=township_id)
    if village_id is not None:
        volunteers = volunteers.filter(home_village_id=village_id)
    return volunteers.select_related("verified_by_node").order_by("volunteer_number", "id")
