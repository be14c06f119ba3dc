from typing import NamedTuple

from django.db import transaction
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.core.errors import Conflict, DomainError
from apps.service_requests import services as request_services
from apps.service_requests.models import ServiceRequest, Status

from .models import Rating, Tag


class RatingResult(NamedTuple):
    rating: Rating
    created: bool  # False: the same rating by the same person was already there (a retry)


def rating_submit(*, request: ServiceRequest, actor: User, score: int, tags: list[str], comment: str = "") -> Rating:
    """评单, once. See :func:`rating_submit_or_repeat`."""
    return rating_submit_or_repeat(request=request, actor=actor, score=score, tags=tags, comment=comment).rating


def rating_submit_or_repeat(
    *, request: ServiceRequest, actor: User, score: int, tags: list[str], comment: str = ""
) -> RatingResult:
    """评单, once. Preconditions: ``actor`` is the requester or staff managing the request
    (checked by the caller's selector). Side effects: the request moves completed → rated → closed.

    Safe to retry: if ``actor`` already gave exactly this rating (score, tags and comment), the
    existing rating is returned with ``created=False`` and nothing changes. Any other second
    rating is a Conflict ``already_rated``."""
    if not 1 <= score <= 5:
        raise DomainError(_("评分须为1到5。"), code="invalid_score")
    unknown = [t for t in tags if t not in Tag.values]
    if unknown:
        raise DomainError(_("未知的评价标签：%(tags)s") % {"tags": "、".join(unknown)}, code="invalid_tag")
    tags = list(dict.fromkeys(tags))
    with transaction.atomic():
        locked = request_services.request_lock(request_id=request.id)
        existing = Rating.objects.filter(request=locked).first()
        if existing is not None:
            if existing.rated_by_id == actor.id and (existing.score, existing.tags, existing.comment) == (
                score,
                tags,
                comment,
            ):
                return RatingResult(existing, created=False)
            raise Conflict(_("该工单已经评价过了。"), code="already_rated")
        if locked.status != Status.COMPLETED:
            raise Conflict(_("服务完成后才能评价。"), code="not_completed")
        rating = Rating.objects.create(
            request=locked,
            score=score,
            tags=tags,
            comment=comment,
            rated_by=actor,
            on_behalf=actor.id != locked.requester_id,
        )
        request_services.request_mark_rated(request=locked, actor=actor)
        # The volunteers who served it now have one more rating in their history.
        request_services.request_history_changed(request_id=locked.id)
    return RatingResult(rating, created=True)
