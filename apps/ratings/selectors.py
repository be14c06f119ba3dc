from apps.service_requests.models import ServiceRequest

from .models import Rating


def rating_of(*, request: ServiceRequest) -> Rating | None:
    return Rating.objects.filter(request=request).first()
