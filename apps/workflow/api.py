from collections.abc import Mapping
from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core import idempotency
from apps.core.api import ScopedViewSet
from apps.core.errors import Forbidden
from apps.core.filters import DateTimeFilter, IdFilter
from apps.core.schema import error_codes
from apps.dispatch import services as dispatch_services
from apps.dispatch.serializers import DispatchInput, OfferOutput
from apps.ratings.serializers import RatingInput, RatingOutput
from apps.ratings.services import rating_submit_or_repeat
from apps.service_requests import services as request_services
from apps.service_requests.models import FILTERABLE_STATUSES, ServiceRequest, Urgency
from apps.service_requests.selectors import as_list_rows, requests_visible_to, user_manages_request
from apps.service_requests.serializers import (
    CancelInput,
    OnBehalfCreateInput,
    RequestCreateInput,
    RequestListOutput,
    ReviewInput,
)
from apps.volunteers.selectors import volunteers_chosen_for_dispatch

from .selectors import may_act_as_requester_or_staff, request_detail_context
from .serializers import RequestDetailOutput
from .services import request_submit_on_behalf

SUBMIT_ERRORS = {
    400: {
        "window_in_past": "The desired time window is already over.",
        "no_station": "The village has no station and its township no office yet.",
    }
}
ON_BEHALF_ERRORS = {
    400: {
        **SUBMIT_ERRORS[400],
        "out_of_area": "The village is outside your area.",
        "out_of_field": "The service category is outside your sub-centre's fields.",
    }
}


CREATE_EXAMPLE = OpenApiExample(
    "点单",
    request_only=True,
    value={
        "category": 1,
        "title": "帮忙买药送到家",
        "description": "腿脚不便，需要到镇卫生院取降压药。",
        "village": 21,
        "address": "3排5号",
        "contact_name": "王大爷",
        "contact_phone": "13812345678",
        "urgency": "normal",
        "volunteers_needed": 1,
        "window_start": "2026-12-02T09:00:00+08:00",
        "window_end": "2026-12-02T11:00:00+08:00",
    },
)
ON_BEHALF_EXAMPLE = OpenApiExample(
    "代点单（电话）",
    request_only=True,
    value={
        **{k: v for k, v in CREATE_EXAMPLE.value.items() if k not in ("contact_name", "contact_phone")},
        "requester_phone": "13812345678",
        "requester_name": "王大爷",
        "channel": "phone",
        "contact_is_requester": True,
    },
)


class OnBehalfInput(OnBehalfCreateInput):
    """代点单 as the staff page takes it: with ``contact_is_requester`` the contact is the
    resident (their name and phone; a contact sent along is not read) and may be left out;
    without it the contact is required, as for 点单."""

    contact_is_requester = serializers.BooleanField(
        required=False,
        default=False,
        help_text="The contact is the resident: contact_name and contact_phone are taken from "
        "requester_name and requester_phone and may be left out.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Decided from the body before the fields are read, so that a missing contact is named
        # with every other wrong field at once. Without a body (the schema) the contact is
        # optional, as it is with the flag.
        body = getattr(self, "initial_data", None)
        self.contact_from_requester = _says_yes(body, "contact_is_requester")
        for name in ("contact_name", "contact_phone"):
            if self.contact_from_requester:
                self.fields.pop(name)
            else:
                self.fields[name].required = body is not None

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        if self.contact_from_requester:
            attrs["contact_name"] = attrs["requester_name"]
            attrs["contact_phone"] = attrs["requester_phone"]
        return attrs


def _says_yes(data: Any, name: str) -> bool:
    value = data.get(name) if isinstance(data, Mapping) else None
    return isinstance(value, bool | str | int) and value in serializers.BooleanField.TRUE_VALUES


class RequestFilter(django_filters.FilterSet):
    # Not "rated": rating closes a request at once, so no request ever rests there (the
    # timeline still shows the step).
    status = django_filters.MultipleChoiceFilter(choices=FILTERABLE_STATUSES)
    urgency = django_filters.ChoiceFilter(choices=Urgency.choices)
    category = IdFilter(field_name="category_id")
    township = IdFilter(field_name="township_id")
    village = IdFilter(field_name="village_id")
    created_after = DateTimeFilter(field_name="created_at", lookup_expr="gte")
    created_before = DateTimeFilter(field_name="created_at", lookup_expr="lt")

    class Meta:
        model = ServiceRequest
        fields = ["status", "urgency", "category", "township", "village"]


class RequestViewSet(mixins.ListModelMixin, ScopedViewSet):
    """Service requests: a resident's own, or those of a staff member's area.

    Volunteers reach the requests they are offered through ``/offers/``."""

    filterset_class = RequestFilter
    serializer_class = RequestListOutput

    def get_scoped_queryset(self) -> QuerySet[ServiceRequest]:
        requests = requests_visible_to(user=self.user)
        return as_list_rows(requests) if self.action == "list" else requests

    def _detail(self, request_obj: ServiceRequest, *, status_code: int = status.HTTP_200_OK) -> Response:
        fresh = requests_visible_to(user=self.user).get(id=request_obj.id)
        context = {**self.get_serializer_context(), **request_detail_context(request=fresh)}
        return Response(RequestDetailOutput(fresh, context=context).data, status=status_code)

    def _managed(self) -> ServiceRequest:
        request_obj: ServiceRequest = self.get_object()
        if not user_manages_request(user=self.user, request=request_obj):
            raise Forbidden(_("只有负责该区域的工作人员可以操作。"))
        return request_obj

    def _requester_or_staff(self) -> ServiceRequest:
        request_obj: ServiceRequest = self.get_object()
        if not may_act_as_requester_or_staff(user=self.user, request=request_obj):
            raise Forbidden(_("只有点单人或负责该区域的工作人员可以操作。"))
        return request_obj

    @extend_schema(responses=RequestDetailOutput)
    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        return self._detail(self.get_object())

    @extend_schema(
        request=RequestCreateInput,
        examples=[CREATE_EXAMPLE],
        responses={201: RequestDetailOutput},
        parameters=[idempotency.PARAMETER],
    )
    @error_codes(SUBMIT_ERRORS)
    @idempotency.idempotent
    def create(self, request: Request) -> Response:
        """点单: submit a request as yourself."""
        data = RequestCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        created = request_services.request_submit(
            data=request_services.RequestInput.from_values(data.validated_data),
            requester=self.user,
            entered_by=self.user,
        )
        return self._detail(created, status_code=status.HTTP_201_CREATED)

    @extend_schema(
        request=OnBehalfInput,
        examples=[ON_BEHALF_EXAMPLE],
        responses={201: RequestDetailOutput},
        parameters=[idempotency.PARAMETER],
    )
    @error_codes(ON_BEHALF_ERRORS)
    @action(detail=False, methods=["post"], url_path="on-behalf")
    @idempotency.idempotent
    def on_behalf(self, request: Request) -> Response:
        """代点单: staff enter a request taken by phone or at the desk, for a resident of their area.
        Their entry is the review: the request is accepted (受理) at once, into the dispatch queue."""
        user = self.user
        if not user.is_org_staff:
            raise Forbidden(_("只有工作人员可以代点单。"))
        data = OnBehalfInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        created = request_submit_on_behalf(
            staff=user,
            data=request_services.RequestInput.from_values(values),
            requester_phone=values["requester_phone"],
            requester_name=values["requester_name"],
            channel=values["channel"],
        )
        return self._detail(created, status_code=status.HTTP_201_CREATED)

    @extend_schema(
        request=ReviewInput,
        responses=RequestDetailOutput,
        examples=[
            OpenApiExample("受理", request_only=True, value={"decision": "accept"}),
            OpenApiExample("不予受理", request_only=True, value={"decision": "reject", "reason": "不属于志愿服务范围"}),
        ],
    )
    @error_codes({400: {"reason_required": "A rejection needs a reason (the resident will read it)."}})
    @action(detail=True, methods=["post"])
    def review(self, request: Request, pk: str | None = None) -> Response:
        """审核: accept into the dispatch queue, or reject with a reason."""
        request_obj = self._managed()
        data = ReviewInput(data=request.data)
        data.is_valid(raise_exception=True)
        request_services.request_review(
            request=request_obj,
            actor=self.user,
            accept=data.validated_data["decision"] == "accept",
            reason=data.validated_data["reason"],
        )
        return self._detail(request_obj)

    @extend_schema(
        request=DispatchInput,
        examples=[
            OpenApiExample("派单", request_only=True, value={"volunteer_ids": [12, 31], "expires_in_minutes": 60})
        ],
        responses={201: OfferOutput(many=True)},
        parameters=[idempotency.PARAMETER],
    )
    @error_codes(
        {
            400: {
                "unknown_volunteer": "An id is not a volunteer you may see (the message lists them).",
                "volunteer_unavailable": "A volunteer is not verified or has stopped serving (listed).",
            },
            409: {
                "not_dispatchable": "The request's status does not allow dispatching.",
                "already_offered": "A volunteer has an open offer or task on it already (listed); nothing was sent.",
            },
        }
    )
    @action(detail=True, methods=["post"], url_path="dispatch", pagination_class=None)
    @idempotency.idempotent
    def dispatch_offers(self, request: Request, pk: str | None = None) -> Response:
        """派单: offer the request to chosen volunteers of your area. A volunteer who already
        has an open offer or task on it: 409 ``already_offered`` (nothing is sent)."""
        request_obj = self._managed()
        data = DispatchInput(data=request.data)
        data.is_valid(raise_exception=True)
        volunteers = volunteers_chosen_for_dispatch(user=self.user, volunteer_ids=data.validated_data["volunteer_ids"])
        offers = dispatch_services.dispatch_directed(
            request=request_obj,
            actor=self.user,
            volunteers=volunteers,
            expires_in_minutes=data.validated_data.get("expires_in_minutes"),
        )
        return Response(
            OfferOutput(offers, many=True, context=self.get_serializer_context()).data, status=status.HTTP_201_CREATED
        )

    @extend_schema(request=CancelInput, responses=RequestDetailOutput)
    @error_codes({409: {"not_cancellable": "The request's status does not allow cancelling."}})
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        request_obj = self._requester_or_staff()
        data = CancelInput(data=request.data)
        data.is_valid(raise_exception=True)
        dispatch_services.request_cancel(request=request_obj, actor=self.user, reason=data.validated_data["reason"])
        return self._detail(request_obj)

    @extend_schema(
        request=RatingInput,
        examples=[
            OpenApiExample(
                "评单",
                request_only=True,
                value={"score": 5, "tags": ["on_time", "patient"], "comment": "很及时，谢谢！"},
            )
        ],
        responses={
            201: RatingOutput,
            200: OpenApiResponse(RatingOutput, description="The same rating by the same person again: unchanged."),
        },
        parameters=[idempotency.PARAMETER],
    )
    @error_codes(
        {
            409: {
                "already_rated": "It was rated already (by someone else, or differently).",
                "not_completed": "Only a completed service can be rated.",
            }
        }
    )
    @action(detail=True, methods=["post"])
    @idempotency.idempotent
    def rate(self, request: Request, pk: str | None = None) -> Response:
        """评单: 1–5 with tags and a comment, once; staff may rate on the resident's behalf.

        201 with the new rating. Safe to retry: the same person sending exactly the same rating
        again gets 200 with the rating as stored, and nothing changes; any other second rating
        is 409 ``already_rated``."""
        request_obj = self._requester_or_staff()
        data = RatingInput(data=request.data)
        data.is_valid(raise_exception=True)
        rating, created = rating_submit_or_repeat(
            request=request_obj,
            actor=self.user,
            score=data.validated_data["score"],
            tags=data.validated_data["tags"],
            comment=data.validated_data["comment"],
        )
        return Response(RatingOutput(rating).data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)
