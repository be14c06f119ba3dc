from celery import shared_task

from . import services


# The default time limit (two minutes) is for short tasks; a roster of 100,000 rows takes a few.
@shared_task(name="roster.run_import", acks_late=True, time_limit=1800, soft_time_limit=1780)  # type: ignore[untyped-decorator]
def run_import(job_id: int) -> str:
    return services.roster_import_run(job_id=job_id)


@shared_task(name="roster.resume_stalled_imports", acks_late=True, time_limit=120)  # type: ignore[untyped-decorator]
def resume_stalled_imports() -> int:
    return services.roster_imports_resume_stalled()
