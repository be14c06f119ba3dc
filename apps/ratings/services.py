from django.db import transaction
from django.utils.translation import gettext as _

from apps.accounts.models import User
from apps.core.errors import Conflict, DomainError
from apps.service_requests import services as request_services
from apps.service_requests.models import ServiceRequest, Status

from .models import Rating, Tag


def rating_submit(*, request: ServiceRequest, actor: User, score: int, tags: list[str], comment: str = "") -> Rating:
    """评单, once. Preconditions: ``actor`` is the requester or staff managing the request
    (checked by the caller's selector). Side effects: the request moves completed → rated → closed."""
    if not 1 <= score <= 5:
        raise DomainError(_("评分须为1到5。"), code="invalid_score")
    unknown = [t for t in tags if t not in Tag.values]
    if unknown:
        raise DomainError(_("未知的评价标签：%(tags)s") % {"tags": "、".join(unknown)}, code="invalid_tag")
    with transaction.atomic():
        locked = request_services.request_lock(request_id=request.id)
        if locked.status != Status.COMPLETED:
            if Rating.objects.filter(request=locked).exists():
                raise Conflict(_("该工单已经评价过了。"), code="already_rated")
            raise Conflict(_("服务完成后才能评价。"), code="not_completed")
        rating = Rating.objects.create(
            request=locked,
            score=score,
            tags=list(dict.fromkeys(tags)),
            comment=comment,
            rated_by=actor,
            on_behalf=actor.id != locked.requester_id,
        )
        request_services.request_mark_rated(request=locked, actor=actor)
    return rating
