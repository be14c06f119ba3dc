from typing import Any

import django_filters
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.api import ScopedViewSet
from apps.core.errors import DomainError, Forbidden
from apps.core.filters import IdFilter
from apps.core.schema import error_codes
from apps.volunteers.models import VolunteerProfile

from . import services
from .models import LIVE_STATUSES, MembershipStatus, Team, TeamMembership
from .selectors import (
    managed_team_ids,
    memberships_visible_to,
    team_members,
    teams_visible_to,
    teams_with_leaders,
)
from .serializers import InviteInput, MemberOutput, MembershipOutput, ReasonInput, TeamOutput

LIVE = {
    "already_member": "The volunteer is a member of the team already.",
    "already_applied": "An application to the team is waiting for review.",
    "already_invited": "The volunteer was invited already and has not answered.",
}
INACTIVE = {"team_inactive": "The team is no longer active."}
REASON = {
    "reason_required": "Say why: the volunteer reads it.",
    "reason_too_long": "The reason is longer than 200 characters.",
}


def _profile_of(user: Any) -> VolunteerProfile:
    profile: VolunteerProfile | None = getattr(user, "volunteer_profile", None)
    if profile is None:
        raise DomainError(_("只有通过实名审核的志愿者才能加入服务队。"), code="not_registered")
    return profile


def _own_volunteer(user: Any, membership: TeamMembership) -> VolunteerProfile:
    """The volunteer of ``membership`` if that is ``user``; a manager who sees it may not answer for them."""
    profile: VolunteerProfile | None = getattr(user, "volunteer_profile", None)
    if profile is None or profile.id != membership.volunteer_id:
        raise Forbidden(_("只有志愿者本人可以操作。"))
    return profile


class TeamViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Volunteer service teams (志愿服务队, "8+N"). A volunteer sees the teams they may join (city-wide,
    their township's, their village's) and those they belong to; staff those of their area; the
    centre and admins every team. Leaders are shown masked to everyone who sees the team; the
    members only to the team's leaders and admins and to staff (``/members/``)."""

    serializer_class = TeamOutput

    def get_scoped_queryset(self) -> QuerySet[Team]:
        teams = teams_visible_to(user=self.user).order_by("kind", "name", "id")
        # Only the team answers show the node, categories and leaders.
        return teams_with_leaders(teams) if self.action in ("list", "retrieve") else teams

    def get_serializer_context(self) -> dict[str, Any]:
        context = dict(super().get_serializer_context())
        if getattr(self, "swagger_fake_view", False) or not self.request.user.is_authenticated:
            return context
        context["my_memberships"] = {
            m.team_id: m
            for m in TeamMembership.objects.filter(volunteer__user=self.user, status__in=LIVE_STATUSES).only(
                "id", "team_id", "status", "role"
            )
        }
        context["managed_ids"] = managed_team_ids(user=self.user)
        return context

    def _membership_answer(self, membership: TeamMembership, code: int = status.HTTP_200_OK) -> Response:
        fresh = memberships_visible_to(user=self.user).get(id=membership.id)
        return Response(MembershipOutput(fresh).data, status=code)

    @extend_schema(responses=MemberOutput(many=True))
    @action(detail=True, methods=["get"], filter_backends=[])
    def members(self, request: Request, pk: str | None = None) -> Response:
        """The team's applications, invitations and members (masked names and phones, platform
        numbers), for its leaders and admins and the staff of its area; 404 for anyone else."""
        team: Team = self.get_object()
        page = self.paginate_queryset(team_members(user=self.user, team=team))
        assert page is not None, "the API paginates every list"
        return self.get_paginated_response(MemberOutput(page, many=True).data)

    @extend_schema(request=None, responses={201: MembershipOutput})
    @error_codes(
        {
            400: {"not_registered": "Only volunteers whose registration is approved may join teams."},
            409: {**LIVE, **INACTIVE},
        }
    )
    @action(detail=True, methods=["post"])
    def apply(self, request: Request, pk: str | None = None) -> Response:
        """Apply to join the team (the team's leaders approve or reject)."""
        team: Team = self.get_object()
        membership = services.membership_apply(team=team, volunteer=_profile_of(self.user))
        return self._membership_answer(membership, status.HTTP_201_CREATED)

    @extend_schema(request=InviteInput, responses={201: MembershipOutput})
    @error_codes(
        {
            400: {
                "number_required": "Give the volunteer's platform number.",
                "unknown_volunteer": "No registered volunteer has this number.",
            },
            409: {**LIVE, **INACTIVE},
        }
    )
    @action(detail=True, methods=["post"])
    def invite(self, request: Request, pk: str | None = None) -> Response:
        """Invite a registered volunteer by platform number (``ZZV…``); they accept or decline.
        For the team's leaders and admins and the staff of its area (404 for anyone else)."""
        team: Team = self.get_object()
        data = InviteInput(data=request.data)
        data.is_valid(raise_exception=True)
        membership = services.membership_invite(
            team=team, actor=self.user, volunteer_number=data.validated_data["volunteer_number"]
        )
        return self._membership_answer(membership, status.HTTP_201_CREATED)


class MembershipFilter(django_filters.FilterSet):  # type: ignore[misc]  # django-filter is untyped
    team = IdFilter(field_name="team_id")
    status = django_filters.MultipleChoiceFilter(choices=MembershipStatus.choices)

    class Meta:
        model = TeamMembership
        fields = ["team", "status"]


class MembershipViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    """Team memberships: your own (applications, invitations to answer, teams you are in), and
    those of the teams you manage as leader, admin or staff of the area."""

    serializer_class = MembershipOutput
    filterset_class = MembershipFilter

    def get_scoped_queryset(self) -> QuerySet[TeamMembership]:
        return memberships_visible_to(user=self.user).order_by("-status_changed_at", "-id")

    def _answer(self, membership: TeamMembership) -> Response:
        fresh = memberships_visible_to(user=self.user).get(id=membership.id)
        return Response(MembershipOutput(fresh).data)

    @extend_schema(request=None, responses=MembershipOutput)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        """Approve an application (team leaders and admins, staff of the area)."""
        membership: TeamMembership = self.get_object()
        services.membership_approve(membership=membership, actor=self.user)
        return self._answer(membership)

    @extend_schema(request=ReasonInput, responses=MembershipOutput)
    @error_codes({400: REASON})
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        """Reject an application with a reason the volunteer reads."""
        membership: TeamMembership = self.get_object()
        data = ReasonInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.membership_reject(membership=membership, actor=self.user, reason=data.validated_data["reason"])
        return self._answer(membership)

    @extend_schema(request=ReasonInput, responses=MembershipOutput)
    @error_codes(
        {
            400: REASON,
            403: {
                "cannot_remove_self": "Leave the team instead.",
                "staff_only": "Leaders and admins are removed by staff of the area.",
            },
        }
    )
    @action(detail=True, methods=["post"])
    def remove(self, request: Request, pk: str | None = None) -> Response:
        """Remove a member with a reason the volunteer reads."""
        membership: TeamMembership = self.get_object()
        data = ReasonInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.membership_remove(membership=membership, actor=self.user, reason=data.validated_data["reason"])
        return self._answer(membership)

    @extend_schema(request=None, responses=MembershipOutput)
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk: str | None = None) -> Response:
        """Accept an invitation (the invited volunteer only)."""
        membership: TeamMembership = self.get_object()
        services.invite_accept(membership=membership, volunteer=_own_volunteer(self.user, membership))
        return self._answer(membership)

    @extend_schema(request=None, responses=MembershipOutput)
    @action(detail=True, methods=["post"])
    def decline(self, request: Request, pk: str | None = None) -> Response:
        """Decline an invitation (the invited volunteer only)."""
        membership: TeamMembership = self.get_object()
        services.invite_decline(membership=membership, volunteer=_own_volunteer(self.user, membership))
        return self._answer(membership)

    @extend_schema(request=None, responses=MembershipOutput)
    @action(detail=True, methods=["post"])
    def leave(self, request: Request, pk: str | None = None) -> Response:
        """Leave the team, or withdraw an application (the volunteer only)."""
        membership: TeamMembership = self.get_object()
        services.membership_leave(membership=membership, volunteer=_own_volunteer(self.user, membership))
        return self._answer(membership)
