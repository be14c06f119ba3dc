"""Volunteer API of the matching queue: open tasks (抢单) and team dispatch.

- ``GET /open-tasks/``, ``POST /open-tasks/<id>/take/``: for volunteers (anyone else 403); a
  request not open to the caller (not broadcast, not eligible, unknown) is 404.
- ``GET /team-tasks/``, ``POST /team-tasks/<id>/assign/``, ``POST /team-tasks/<id>/decline/``:
  for the leaders and admins of a team (anyone else 403); a request not offered to a team the
  caller leads is 404."""

from typing import Any

from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from apps.accounts.models import User
from apps.core import idempotency
from apps.core.api import AuthenticatedAPIView
from apps.core.errors import Forbidden, NotFound
from apps.core.fields import TextField
from apps.core.filters import MAX_ID
from apps.core.schema import error_codes
from apps.dispatch.selectors import offers_visible_to
from apps.dispatch.serializers import OfferOutput
from apps.organisation.serializers import CategoryRef, PlaceRef
from apps.service_requests.models import ServiceRequest, Status, Urgency
from apps.service_requests.serializers import LabelField
from apps.teams.selectors import is_team_leader
from apps.teams.serializers import TeamRef
from apps.volunteers.models import VolunteerProfile

from .api_staff import CandidateOutput
from .broadcast import broadcast_request, open_task_take, open_tasks_for
from .team_dispatch import (
    TEAM_TASKS_LIMIT,
    members_chosen,
    team_assign,
    team_decline,
    team_task_candidates,
    team_task_for,
    team_tasks_for,
)


def _volunteer(user: User) -> VolunteerProfile:
    profile: VolunteerProfile | None = getattr(user, "volunteer_profile", None)
    if profile is None:
        raise Forbidden(_("只有志愿者可以抢单。"))
    return profile


def _leader(user: User) -> None:
    if not is_team_leader(user=user):
        raise Forbidden(_("只有服务队队长或管理员可以安排队员。"))


def _id(pk: int) -> int:
    if pk > MAX_ID:  # names no row; the database driver would refuse the number
        raise NotFound()
    return pk


# --- 抢单 ---------------------------------------------------------------------------------------


class OpenTaskOutput(serializers.Serializer[Any]):
    """An open task as a volunteer sees it before taking it: when, where, how many; no address,
    no phone, no contact."""

    id = serializers.IntegerField()
    title = serializers.CharField()
    description = serializers.CharField()
    category = CategoryRef()
    township = PlaceRef()
    village = PlaceRef()
    urgency = serializers.ChoiceField(choices=Urgency.choices)
    urgency_display = LabelField(Urgency, source="urgency")
    window_start = serializers.DateTimeField(allow_null=True)
    window_end = serializers.DateTimeField(allow_null=True)
    volunteers_needed = serializers.IntegerField()
    volunteers_accepted = serializers.IntegerField(help_text="How many have taken it so far.")
    places_left = serializers.SerializerMethodField()

    def get_places_left(self, obj: ServiceRequest) -> int:
        return obj.volunteers_needed - obj.volunteers_accepted


TAKE_ERRORS = {
    409: {
        "offer_taken": "The places were all taken by others first.",
        "request_cancelled": "The request was cancelled.",
    }
}


class OpenTasksView(AuthenticatedAPIView):
    pagination_class = None

    @extend_schema(responses=OpenTaskOutput(many=True))
    def get(self, request: Request) -> Response:
        """抢单 list: the requests open to everyone that you may take now (eligible: your
        categories or skills, your reach, your free time, under your task cap), most urgent
        first. Empty while your registration is under review or you have paused."""
        volunteer = _volunteer(self.user)
        return Response(OpenTaskOutput(open_tasks_for(volunteer=volunteer), many=True).data)


class OpenTaskTakeView(AuthenticatedAPIView):
    @extend_schema(
        request=None,
        responses={
            201: OfferOutput,
            200: OpenApiResponse(OfferOutput, description="You had taken it already: your task, unchanged."),
        },
        parameters=[idempotency.PARAMETER],
    )
    @error_codes(TAKE_ERRORS)
    @idempotency.idempotent
    def post(self, request: Request, pk: int) -> Response:
        """抢单: take a place. 201 with your task (an accepted offer; the address and phone are
        in it now). First come, first served: once the places are gone, 409 ``offer_taken``.
        Safe to retry: if you hold a place on it already, 200 with that task and nothing changes."""
        volunteer = _volunteer(self.user)
        service_request = broadcast_request(request_id=_id(pk))
        offer, taken = open_task_take(request=service_request, volunteer=volunteer)
        fresh = offers_visible_to(user=self.user).get(id=offer.id)
        return Response(
            OfferOutput(fresh).data,
            status=status.HTTP_201_CREATED if taken else status.HTTP_200_OK,
        )


# --- 服务队派单 -----------------------------------------------------------------------------------


class AssignmentOutput(serializers.Serializer[Any]):
    """A member the leader assigned and how they answered (masked name)."""

    offer_id = serializers.IntegerField(source="id")
    volunteer_id = serializers.IntegerField()
    volunteer_number = serializers.CharField(source="volunteer.volunteer_number")
    masked_name = serializers.CharField(source="volunteer.user.masked_name")
    status = serializers.CharField()
    status_display = serializers.CharField(source="get_status_display")


class TeamTaskOutput(serializers.Serializer[Any]):
    request = OpenTaskOutput()
    status = serializers.CharField(source="request.status")
    status_display = LabelField(Status, source="request.status")
    team = TeamRef()
    places_open = serializers.IntegerField(help_text="Places neither filled nor awaiting an assigned member's answer.")
    assignments = AssignmentOutput(many=True)
    candidates = CandidateOutput(
        many=True, help_text="Active members eligible now, best first, with their reasons: whom to assign."
    )


def _team_task(user: User, request_obj: ServiceRequest) -> dict[str, Any]:
    return TeamTaskOutput(team_task_candidates(request=request_obj, leader=user)).data


class TeamTasksView(AuthenticatedAPIView):
    pagination_class = None

    @extend_schema(responses=TeamTaskOutput(many=True))
    def get(self, request: Request) -> Response:
        """The requests offered to the teams you lead or administer and still in hand, newest
        first (at most 30), each with the members assigned and the members you may assign."""
        _leader(self.user)
        tasks = [
            team_task_candidates(request=r, leader=self.user) for r in team_tasks_for(user=self.user)[:TEAM_TASKS_LIMIT]
        ]
        return Response(TeamTaskOutput(tasks, many=True).data)


class AssignInput(serializers.Serializer[Any]):
    member_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        min_length=1,
        max_length=20,
        help_text=gettext_lazy("队员的志愿者ID（候选列表中的 volunteer_id）"),
    )

    def validate_member_ids(self, value: list[int]) -> list[int]:
        if len(set(value)) != len(value):
            raise serializers.ValidationError(_("队员不能重复。"))
        return value


class TeamTaskDeclineInput(serializers.Serializer[Any]):
    reason = TextField(max_length=200, help_text=gettext_lazy("无法承接的原因（工作人员会看到）"))


class TeamTaskAssignView(AuthenticatedAPIView):
    @extend_schema(
        request=AssignInput,
        responses=TeamTaskOutput,
        examples=[OpenApiExample("安排两名队员", request_only=True, value={"member_ids": [12, 31]})],
    )
    @error_codes(
        {
            400: {
                "not_member": "An id is not an active member of the team (the message lists them); nothing was sent.",
                "not_eligible": "A member cannot take it now (answered before, busy, paused, out of reach).",
                "too_many": "More members than places still open.",
            },
            409: {
                "not_dispatchable": "The request's status does not allow assigning.",
                "already_offered": "A member has an open offer or task on it already (listed).",
            },
        }
    )
    def post(self, request: Request, pk: int) -> Response:
        """队长派单: offer the request to members of your team. Each gets an ordinary offer to
        accept or decline; when one declines or lets it lapse you are told and may assign another."""
        _leader(self.user)
        request_obj = team_task_for(user=self.user, request_id=_id(pk))
        data = AssignInput(data=request.data)
        data.is_valid(raise_exception=True)
        members = members_chosen(request=request_obj, leader=self.user, member_ids=data.validated_data["member_ids"])
        team_assign(request=request_obj, leader=self.user, members=members)
        return Response(_team_task(self.user, team_task_for(user=self.user, request_id=pk)))


class TeamTaskDeclineView(AuthenticatedAPIView):
    @extend_schema(
        request=TeamTaskDeclineInput,
        responses={204: None},
        examples=[OpenApiExample("无法承接", request_only=True, value={"reason": "本周队员都在外培训"})],
    )
    @error_codes({409: {"not_dispatchable": "The places are filled: nothing to hand back."}})
    def post(self, request: Request, pk: int) -> Response:
        """The team cannot take it: staff are told, with your reason, and take it on. Offers
        already made stay; members who accepted keep their places."""
        _leader(self.user)
        request_obj = team_task_for(user=self.user, request_id=_id(pk))
        data = TeamTaskDeclineInput(data=request.data)
        data.is_valid(raise_exception=True)
        team_decline(request=request_obj, leader=self.user, reason=data.validated_data["reason"])
        return Response(status=status.HTTP_204_NO_CONTENT)


volunteer_api_paths: list[URLPattern] = [
    path("open-tasks/", OpenTasksView.as_view(), name="open-tasks"),
    path("open-tasks/<int:pk>/take/", OpenTaskTakeView.as_view(), name="open-task-take"),
    path("team-tasks/", TeamTasksView.as_view(), name="team-tasks"),
    path("team-tasks/<int:pk>/assign/", TeamTaskAssignView.as_view(), name="team-task-assign"),
    path("team-tasks/<int:pk>/decline/", TeamTaskDeclineView.as_view(), name="team-task-decline"),
]
