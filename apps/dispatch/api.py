from collections.abc import Sequence
from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api import ScopedViewSet
from apps.core.errors import Forbidden
from apps.core.schema import error_codes

from . import services
from .models import Offer, OfferStatus
from .selectors import offers_listed_for, offers_visible_to, with_contacts
from .serializers import CompleteInput, DeclineInput, DepartInput, OfferOutput, ReleaseInput

# Why an offer can no longer be answered (409), each cause with its own code.
CLOSED = {
    "request_cancelled": "The request was cancelled.",
    "offer_taken": "The places were filled by others.",
    "offer_expired": "The offer's time ran out.",
    "offer_declined": "You declined it.",
    "offer_released": "You said you cannot go.",
    "already_accepted": "You hold this task already: release it instead.",
    "offer_closed": "The offer was answered already.",
}


def _closed(*codes: str) -> dict[str, str]:
    return {code: CLOSED[code] for code in codes}


class OfferFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=OfferStatus.choices)

    class Meta:
        model = Offer
        fields = ["status"]


class OfferViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """A volunteer's offers and tasks (接单); staff see those of their area, read-only."""

    serializer_class = OfferOutput
    filterset_class = OfferFilter

    def get_scoped_queryset(self) -> QuerySet[Offer]:
        if self.action == "list":
            return offers_listed_for(user=self.user)
        return offers_visible_to(user=self.user)

    def paginate_queryset(self, queryset: QuerySet[Any] | Sequence[Any]) -> list[Any] | None:
        page = super().paginate_queryset(queryset)
        return with_contacts(page) if page is not None else None

    def _own_offer(self) -> Offer:
        offer: Offer = self.get_object()
        if offer.volunteer.user_id != self.user.id:
            raise Forbidden(_("只有受邀的志愿者本人可以操作。"))
        return offer

    def _answer(self, offer: Offer) -> Response:
        fresh = offers_visible_to(user=self.user).get(id=offer.id)
        return Response(OfferOutput(fresh, context=self.get_serializer_context()).data)

    @extend_schema(request=None, responses=OfferOutput)
    @error_codes(
        {
            409: _closed(
                "offer_taken", "request_cancelled", "offer_expired", "offer_declined", "offer_released", "offer_closed"
            )
        }
    )
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: str | None = None) -> Response:
        """接单. Safe to retry: if you already accepted (or arrived, or completed), 200 with the
        offer as it is and nothing changes. Refusals (409): ``offer_taken`` (the places were
        filled by others), ``request_cancelled``, ``offer_expired``, ``offer_declined`` (you
        declined it), ``offer_released`` (you said you cannot go)."""
        offer = self._own_offer()
        services.offer_accept(offer=offer, volunteer=offer.volunteer)
        return self._answer(offer)

    @extend_schema(request=DeclineInput, responses=OfferOutput)
    @error_codes(
        {
            409: _closed(
                "already_accepted",
                "offer_taken",
                "request_cancelled",
                "offer_expired",
                "offer_released",
                "offer_closed",
            )
        }
    )
    @action(detail=True, methods=["post"])
    def decline(self, request: Request, pk: str | None = None) -> Response:
        """婉拒. Safe to retry: an offer you already declined answers 200 unchanged. 409
        ``already_accepted`` once you hold the task (release it instead), or as for accept."""
        offer = self._own_offer()
        data = DeclineInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.offer_decline(offer=offer, volunteer=offer.volunteer, reason=data.validated_data["reason"])
        return self._answer(offer)

    @extend_schema(request=DepartInput, responses=OfferOutput)
    @error_codes(
        {
            409: {
                "not_accepted": "Accept the offer first.",
                **_closed(
                    "request_cancelled",
                    "offer_taken",
                    "offer_expired",
                    "offer_declined",
                    "offer_released",
                    "offer_closed",
                ),
            }
        }
    )
    @action(detail=True, methods=["post"])
    def depart(self, request: Request, pk: str | None = None) -> Response:
        """出发: on the way, optionally with ``eta_minutes`` (1–600), the minutes until you expect
        to arrive. The resident and the staff of the area are told. Service hours still start
        when you arrive. Sending it again while on the way with a new ``eta_minutes`` revises the
        expected arrival (the resident and staff are told again); the same ETA again, none, or
        any depart once you have arrived or completed, answers 200 with the offer as it is.
        409 ``not_accepted`` before 接单, ``request_cancelled`` after a cancellation,
        ``offer_released`` once you said you cannot go."""
        offer = self._own_offer()
        data = DepartInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.offer_depart(offer=offer, volunteer=offer.volunteer, eta_minutes=data.validated_data["eta_minutes"])
        return self._answer(offer)

    @extend_schema(request=None, responses=OfferOutput)
    @error_codes(
        {
            409: {
                "not_ready": "Places are still open: wait until every volunteer needed has accepted.",
                **_closed(
                    "request_cancelled",
                    "offer_taken",
                    "offer_expired",
                    "offer_declined",
                    "offer_released",
                    "offer_closed",
                ),
            }
        }
    )
    @action(detail=True, methods=["post"])
    def arrive(self, request: Request, pk: str | None = None) -> Response:
        """Check in, from accepted or on the way (出发 is optional). Safe to retry: once you have
        arrived (or completed), 200 with the offer as it is. 409 ``request_cancelled`` after a
        cancellation, ``not_ready`` while places are still open."""
        offer = self._own_offer()
        services.offer_check_in(offer=offer, volunteer=offer.volunteer)
        return self._answer(offer)

    @extend_schema(request=CompleteInput, responses=OfferOutput)
    @error_codes({409: {"not_checked_in": "Check in (arrive) first.", **_closed("request_cancelled")}})
    @action(detail=True, methods=["post"])
    def complete(self, request: Request, pk: str | None = None) -> Response:
        """Check out. Safe to retry: once completed, 200 with the offer as it is (the first
        report and hours stand). 409 ``request_cancelled`` after a cancellation,
        ``not_checked_in`` before arriving."""
        offer = self._own_offer()
        data = CompleteInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.offer_complete(offer=offer, volunteer=offer.volunteer, report=data.validated_data["report"])
        return self._answer(offer)

    @extend_schema(request=ReleaseInput, responses=OfferOutput)
    @error_codes(
        {
            400: {"reason_required": "Say why you cannot go."},
            409: _closed("request_cancelled"),
        }
    )
    @action(detail=True, methods=["post"])
    def release(self, request: Request, pk: str | None = None) -> Response:
        """Say you cannot go, before arriving (accepted or on the way): the place returns to
        dispatch. Safe to retry: 200 unchanged once released. 409 ``request_cancelled`` after a
        cancellation."""
        offer = self._own_offer()
        data = ReleaseInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.offer_release(offer=offer, volunteer=offer.volunteer, reason=data.validated_data["reason"])
        return self._answer(offer)
