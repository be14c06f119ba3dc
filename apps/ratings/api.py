"""回访 through the API, for staff: the follow-up cases of their area, one case with its calls,
recording a call (and closing), and a routine sample. Anyone else gets 403; a case outside the
caller's area is 404. The resident appears by masked name only, never with a phone."""

from typing import Any

import django_filters
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api import ScopedViewSet
from apps.core.filters import BooleanFilter
from apps.core.permissions import IsOrgStaff
from apps.core.schema import error_codes

from . import services
from .models import FollowUp, FollowUpCall, FollowUpStatus
from .selectors import OPEN_FIRST, as_case_rows, follow_ups_visible_to
from .serializers import (
    FollowUpCallInput,
    FollowUpDetailOutput,
    FollowUpOutput,
    FollowUpSampleInput,
)

CALL_ERRORS = {
    400: {
        "notes_too_long": "The notes are longer than 500 characters.",
        "invalid_outcome": "The outcome is not one of the choices.",
        "outcome_required": "Closing a case needs an outcome.",
        "outcome_without_close": "An outcome is given only to close the case: send `close: true` too.",
    },
    409: {"follow_up_closed": "The case is closed already: it takes no more calls."},
}
SAMPLE_ERRORS = {400: {"invalid_count": "Sample 1 to 20 requests."}}


class FollowUpFilter(django_filters.FilterSet):  # type: ignore[misc]  # django-filter is untyped
    status = django_filters.ChoiceFilter(choices=FollowUpStatus.choices)
    overdue = BooleanFilter(method="filter_overdue", help_text="`true`: open past the deadline; `false`: not.")

    class Meta:
        model = FollowUp
        fields = ["status", "overdue"]

    def filter_overdue(self, queryset: QuerySet[FollowUp], name: str, value: bool | None) -> QuerySet[FollowUp]:
        if value is None:
            return queryset
        overdue = Q(status=FollowUpStatus.OPEN, due_at__lt=timezone.now())
        return queryset.filter(overdue) if value else queryset.exclude(overdue)


class FollowUpViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Follow-up cases (回访工单) of the caller's area: opened by a rating of 1–2 stars or a
    complaint tag, or by a routine sample; open ones first, the earliest deadline first. For staff
    only (403 for anyone else)."""

    permission_classes = [IsAuthenticated, IsOrgStaff]
    filterset_class = FollowUpFilter
    serializer_class = FollowUpOutput

    def get_scoped_queryset(self) -> QuerySet[FollowUp]:
        cases = as_case_rows(follow_ups_visible_to(user=self.user)).order_by(OPEN_FIRST, "due_at", "id")
        if self.action == "list":
            return cases
        return cases.select_related("closed_by").prefetch_related(
            Prefetch("calls", queryset=FollowUpCall.objects.select_related("called_by").order_by("called_at", "id"))
        )

    def _detail(self, case: FollowUp, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_scoped_queryset().get(id=case.id)
        return Response(FollowUpDetailOutput(fresh).data, status=code)

    @extend_schema(responses=FollowUpDetailOutput)
    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        return self._detail(self.get_object())

    @extend_schema(request=FollowUpCallInput, responses={201: FollowUpDetailOutput})
    @error_codes(CALL_ERRORS)
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def calls(self, request: Request, pk: str | None = None) -> Response:
        """Record one call (reached or not); with `close` and an `outcome`, close the case and tell
        the resident the outcome. 201 with the case as it now is."""
        case: FollowUp = self.get_object()
        data = FollowUpCallInput(data=request.data)
        data.is_valid(raise_exception=True)
        values: dict[str, Any] = data.validated_data
        services.follow_up_record_call(
            case=case,
            actor=self.user,
            reached=values["reached"],
            notes=values["notes"],
            outcome=values["outcome"] or None,
            close=values["close"],
        )
        return self._detail(case, status.HTTP_201_CREATED)

    @extend_schema(request=FollowUpSampleInput, responses={201: FollowUpOutput(many=True)})
    @error_codes(SAMPLE_ERRORS)
    @action(detail=False, methods=["post"], filter_backends=[], pagination_class=None)
    def sample(self, request: Request) -> Response:
        """例行抽查回访: open routine cases on up to `count` (1–20) requests of your area completed in
        the last 30 days that never had a case, picked at random. 201 with the cases opened
        (fewer, or none, when fewer requests qualify)."""
        data = FollowUpSampleInput(data=request.data)
        data.is_valid(raise_exception=True)
        cases = services.follow_ups_sample(actor=self.user, count=data.validated_data["count"])
        rows = as_case_rows(FollowUp.objects.filter(id__in=[case.id for case in cases])).order_by("due_at", "id")
        return Response(FollowUpOutput(rows, many=True).data, status=status.HTTP_201_CREATED)
