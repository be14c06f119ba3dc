from typing import Any

import django_filters
from django.db.models import QuerySet
from django.http import QueryDict
from django.urls import path
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api import AuthenticatedAPIView, ScopedViewSet
from apps.core.errors import NotFound
from apps.core.filters import BooleanFilter, IdFilter
from apps.core.permissions import IsOrgStaff
from apps.core.schema import error_codes

from . import availability as weekly
from . import services
from .models import ApplicationStatus, VolunteerProfile
from .selectors import application_of, applications_visible_to, volunteers_visible_to
from .serializers import (
    ApplicationInputSerializer,
    ApplicationListOutput,
    ApplicationOutput,
    ApplicationReasonInput,
    ApplicationStaffOutput,
    LeaveInput,
    ProfileUpdateInput,
    RevealOutput,
    VolunteerOutput,
)


class VolunteerFilter(django_filters.FilterSet):
    category = IdFilter(field_name="categories__id")
    township = IdFilter(field_name="home_township_id")
    village = IdFilter(field_name="home_village_id")
    verified = BooleanFilter(field_name="is_verified")

    class Meta:
        model = VolunteerProfile
        fields = ["category", "township", "village", "verified"]


class VolunteerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Registered volunteers (approved applications) in the staff member's area, to choose from
    when dispatching. Applications under review are ``/volunteer-applications/``."""

    permission_classes = [IsAuthenticated, IsOrgStaff]
    serializer_class = VolunteerOutput
    filterset_class = VolunteerFilter

    def get_scoped_queryset(self) -> QuerySet[VolunteerProfile]:
        return (
            volunteers_visible_to(user=self.user)
            .filter(status=ApplicationStatus.APPROVED)
            .order_by("volunteer_number")
            .distinct()
        )


# --- The applicant's and volunteer's own registration --------------------------------------------

APPLICATION_EXAMPLE = OpenApiExample(
    "志愿者注册",
    request_only=True,
    value={
        "name": "张小明",
        "id_type": "resident_id",
        "id_number": "13068119900101123X",
        "village": 21,
        "service_radius_km": 5,
        "categories": [1, 3],
        "skills": ["elder_care", "computer"],
        "availability": ["sat_morning", "sat_afternoon", "sun_morning"],
        "political_status": "masses",
        "occupation": "教师",
        "emergency_contact_name": "张大明",
        "emergency_contact_phone": "13812345678",
        "guardian_name": "",
        "guardian_phone": "",
        "guardian_consent": False,
        "public_name_consent": False,
        "privacy_consent": True,
    },
)
SUBMIT_ERRORS = {
    400: {
        "id_duplicate": "The document is registered already (by whom is not said).",
        "no_id_number": "There is no document on file to keep: send the number.",
        "id_number_required": "The document type changed: send the number.",
    },
    409: {"already_applied": "You have applied already: read or resubmit your application."},
}
NOT_APPROVED = {409: {"not_approved": "Only an approved registration can do this."}}


def _own(user: object) -> VolunteerProfile:
    profile = application_of(user=user)  # type: ignore[arg-type]
    if profile is None or profile.status == ApplicationStatus.LEFT:
        raise NotFound()
    return profile


def _fresh(profile: VolunteerProfile) -> VolunteerProfile:
    fresh = application_of(user=profile.user)
    assert fresh is not None
    return fresh


class MyApplicationView(AuthenticatedAPIView):
    """Your own volunteer registration (志愿者注册): read, submit, resubmit after a rejection."""

    @extend_schema(responses=ApplicationOutput)
    @error_codes({404: {}})
    def get(self, request: Request) -> Response:
        """Your registration and its status; 404 if you have not applied."""
        return Response(ApplicationOutput(_own(self.user)).data)

    @extend_schema(
        request=ApplicationInputSerializer, responses={201: ApplicationOutput}, examples=[APPLICATION_EXAMPLE]
    )
    @error_codes(SUBMIT_ERRORS)
    def post(self, request: Request) -> Response:
        """Apply: real name, document, what you offer. Reviewed by the station of your village."""
        data = ApplicationInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        profile = services.application_submit(
            user=self.user, data=services.ApplicationInput.from_values(data.validated_data)
        )
        return Response(ApplicationOutput(_fresh(profile)).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=ApplicationInputSerializer, responses=ApplicationOutput, examples=[APPLICATION_EXAMPLE])
    @error_codes({**SUBMIT_ERRORS, 404: {}})
    def put(self, request: Request) -> Response:
        """Resubmit after a rejection, fixed (an empty ``id_number`` keeps the document on file).
        404 if you have not applied; 409 ``illegal_transition`` unless it was rejected."""
        profile = _own(self.user)
        data = ApplicationInputSerializer(data=request.data, context={"keep": profile})
        data.is_valid(raise_exception=True)
        services.application_resubmit(
            profile=profile, actor=self.user, data=services.ApplicationInput.from_values(data.validated_data)
        )
        return Response(ApplicationOutput(_fresh(profile)).data)


def _over_current(profile: VolunteerProfile, sent: Any) -> Any:
    """A PATCH body over the profile as it is, to validate as a whole."""
    values: dict[str, Any] = {
        "village": profile.home_village_id,
        "categories": [c.id for c in profile.categories.all()],
        "availability": weekly.codes_from_mask(profile.availability),
        "service_radius_km": profile.service_radius_km,
        "skills": list(profile.skills),
        "political_status": profile.political_status,
        "occupation": profile.occupation,
        "emergency_contact_name": profile.emergency_contact_name,
        "emergency_contact_phone": profile.emergency_contact_phone or "",
        "public_name_consent": profile.public_name_consent,
        "share_phone_with_residents": profile.share_phone_with_residents,
    }
    if isinstance(sent, QueryDict):
        merged = sent.copy()
        for key, value in values.items():
            if key not in merged and value is not None:
                merged.setlist(key, [str(v) for v in value] if isinstance(value, list) else [str(value)])
        return merged
    if isinstance(sent, dict):
        return {**values, **sent}
    return sent


class MyProfileView(AuthenticatedAPIView):
    """Your volunteer profile: what you offer, your pause switch."""

    @extend_schema(responses=ApplicationOutput)
    @error_codes({404: {}})
    def get(self, request: Request) -> Response:
        return Response(ApplicationOutput(_own(self.user)).data)

    @extend_schema(request=ProfileUpdateInput, responses=ApplicationOutput)
    @error_codes({**NOT_APPROVED, 404: {}})
    def patch(self, request: Request) -> Response:
        """Change fields, skills, availability, home village and radius, optional details. Your
        name and document stay as verified."""
        profile = _own(self.user)
        data = ProfileUpdateInput(data=_over_current(profile, request.data))
        data.is_valid(raise_exception=True)
        services.volunteer_update(
            profile=profile, actor=self.user, data=services.ProfileInput.from_values(data.validated_data)
        )
        return Response(ApplicationOutput(_fresh(profile)).data)


class PauseView(AuthenticatedAPIView):
    @extend_schema(request=None, responses=ApplicationOutput)
    @error_codes({404: {}, 409: {**NOT_APPROVED[409], "already_paused": "You have paused already."}})
    def post(self, request: Request) -> Response:
        """暂停服务: no new offers until you resume."""
        profile = services.volunteer_pause(profile=_own(self.user), actor=self.user)
        return Response(ApplicationOutput(_fresh(profile)).data)


class ResumeView(AuthenticatedAPIView):
    @extend_schema(request=None, responses=ApplicationOutput)
    @error_codes({404: {}, 409: {**NOT_APPROVED[409], "not_paused": "You have not paused."}})
    def post(self, request: Request) -> Response:
        """恢复服务."""
        profile = services.volunteer_resume(profile=_own(self.user), actor=self.user)
        return Response(ApplicationOutput(_fresh(profile)).data)


class LeaveView(AuthenticatedAPIView):
    @extend_schema(request=LeaveInput, responses={204: None})
    @error_codes({404: {}, 409: {}})
    def post(self, request: Request) -> Response:
        """退出平台: your account is anonymised and can no longer log in; your document, guardian
        and contact details are deleted. Your volunteer number and service records are kept, as
        the law requires records of volunteer service to be kept."""
        data = LeaveInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.volunteer_leave(profile=_own(self.user), actor=self.user)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Review (实名核验) ---------------------------------------------------------------------------


class ApplicationFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ApplicationStatus.choices)
    number = django_filters.CharFilter(
        field_name="volunteer_number", lookup_expr="iexact", max_length=16, help_text="A ZZV number."
    )

    class Meta:
        model = VolunteerProfile
        fields = ["status", "number"]


REVIEW_ERRORS = {403: {"own_application": "You may not review your own application."}}


class VolunteerApplicationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Volunteer registrations of the staff member's area (by the applicant's home village):
    the review queue (``?status=pending``, oldest first), approvals and rejections."""

    permission_classes = [IsAuthenticated, IsOrgStaff]
    serializer_class = ApplicationListOutput
    filterset_class = ApplicationFilter

    def get_scoped_queryset(self) -> QuerySet[VolunteerProfile]:
        qs = applications_visible_to(user=self.user).order_by("submitted_at", "id")
        if self.action != "list":
            qs = qs.prefetch_related("categories", "events__actor")
        return qs

    def _detail(self, profile: VolunteerProfile) -> Response:
        fresh = self.get_scoped_queryset().get(id=profile.id)
        return Response(ApplicationStaffOutput(fresh).data)

    @extend_schema(responses=ApplicationStaffOutput)
    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        return self._detail(self.get_object())

    @extend_schema(request=None, responses=ApplicationStaffOutput)
    @error_codes(REVIEW_ERRORS)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        """实名核验通过: the applicant gets the ZZV number and can be offered services."""
        profile = services.application_approve(profile=self.get_object(), actor=self.user)
        return self._detail(profile)

    @extend_schema(
        request=ApplicationReasonInput,
        responses=ApplicationStaffOutput,
        examples=[OpenApiExample("不通过", request_only=True, value={"reason": "姓名与证件不一致，请核对"})],
    )
    @error_codes({**REVIEW_ERRORS, 400: {"reason_required": "A rejection needs a reason (the applicant reads it)."}})
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        """审核未通过, with a reason the applicant reads, fixes and resubmits."""
        profile = self.get_object()
        data = ApplicationReasonInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.application_reject(profile=profile, actor=self.user, reason=data.validated_data["reason"])
        return self._detail(profile)

    @extend_schema(
        request=ApplicationReasonInput,
        responses=RevealOutput,
        examples=[OpenApiExample("查看证件号", request_only=True, value={"reason": "办理保险需核对证件"})],
    )
    @error_codes({400: {"no_id_number": "No document on file (the volunteer left the platform)."}})
    @action(detail=True, methods=["post"], url_path="reveal-id")
    def reveal_id(self, request: Request, pk: str | None = None) -> Response:
        """The full document number, once: each call is recorded (who, whom, when, why)."""
        profile = self.get_object()
        data = ApplicationReasonInput(data=request.data)
        data.is_valid(raise_exception=True)
        number = services.id_reveal(profile=profile, actor=self.user, reason=data.validated_data["reason"])
        response = Response(RevealOutput({"id_number": number}).data)
        response["Cache-Control"] = "no-store"
        return response


# Mounted under /api/v1/ by zhuozhou_civic/api_urls.py.
own_paths = [
    path("volunteer/application/", MyApplicationView.as_view(), name="volunteer-application"),
    path("volunteer/profile/", MyProfileView.as_view(), name="volunteer-profile"),
    path("volunteer/profile/pause/", PauseView.as_view(), name="volunteer-pause"),
    path("volunteer/profile/resume/", ResumeView.as_view(), name="volunteer-resume"),
    path("volunteer/profile/leave/", LeaveView.as_view(), name="volunteer-leave"),
]
