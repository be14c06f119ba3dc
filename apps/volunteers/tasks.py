from celery import shared_task

from .matchable import matchable_refresh


@shared_task(name="volunteers.refresh_matchable", acks_late=True, time_limit=600, soft_time_limit=590)  # type: ignore[untyped-decorator]
def refresh_matchable() -> int:
    """Beat: rewrite every volunteer's ``MatchableVolunteer`` row (what changed outside the
    services: a place's coordinates, a switched-off category)."""
    return matchable_refresh()
