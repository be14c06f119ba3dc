from celery import shared_task

from . import facts, reports


@shared_task(name="dashboard.fact", acks_late=True, time_limit=20, soft_time_limit=15)  # type: ignore[untyped-decorator]
def fact_of_request(request_id: int) -> int:
    """Rewrite one request's fact (idempotent), after any change of the request or its rating."""
    return facts.facts_refresh(request_ids=[request_id])


@shared_task(name="dashboard.facts_all", acks_late=True, time_limit=1800, soft_time_limit=1790)  # type: ignore[untyped-decorator]
def facts_all() -> int:
    """Beat, nightly: rewrite every fact, for whatever changed outside the services."""
    return facts.facts_refresh()


@shared_task(name="dashboard.report", acks_late=True, time_limit=600, soft_time_limit=590)  # type: ignore[untyped-decorator]
def report(report_id: int) -> bool:
    """Write one monthly workbook (idempotent: a finished one is left as it is)."""
    return reports.report_generate(report_id=report_id)


@shared_task(name="dashboard.monthly_report", acks_late=True, time_limit=60, soft_time_limit=50)  # type: ignore[untyped-decorator]
def monthly_report() -> int:
    """Beat, on the first of each month: ask for last month's city-wide workbook."""
    return reports.report_previous_month().id
