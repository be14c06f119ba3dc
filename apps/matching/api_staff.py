"""Staff API of the matching queue: ranked candidates with reasons, the dispatch mode, the queue
at work on one request.

Every endpoint is for the staff whose area holds the request (``request_for_staff``): anyone
else, the requester included, gets 404, as for a request that does not exist."""

from typing import Any

from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from apps.accounts.models import User
from apps.core.api import AuthenticatedAPIView
from apps.core.errors import DomainError, NotFound
from apps.core.fields import TextField
from apps.core.filters import MAX_ID
from apps.core.schema import error_codes
from apps.organisation.models import DispatchMode
from apps.service_requests.models import ServiceRequest
from apps.service_requests.selectors import request_for_staff
from apps.teams.selectors import teams_in_area
from apps.volunteers.selectors import volunteers_visible_to

from . import queue_selectors, services
from .selectors import Candidate, rank_candidates

PAGE = 20
MAX_LIMIT = 100
# Deeper than anyone pages by hand; keeps OFFSET from scanning the whole volunteer table.
MAX_OFFSET = 10_000
MAX_SEARCH = 50


def managed_request(*, user: User, pk: int) -> ServiceRequest:
    """The request ``pk`` if ``user`` is staff whose area holds it; 404 for anyone else."""
    if pk > MAX_ID:  # names no row; the database driver would refuse the number
        raise NotFound()
    return request_for_staff(user=user, request_id=pk)


def candidates_for_staff(
    *,
    user: User,
    request: ServiceRequest,
    limit: int = PAGE,
    offset: int = 0,
    search: str = "",
    township_id: int | None = None,
    village_id: int | None = None,
) -> tuple[list[Candidate], bool]:
    """The request's candidates among the volunteers ``user`` may see, best first, and whether
    more follow (one more is ranked to know, not counted)."""
    ranked = rank_candidates(
        request=request,
        limit=limit + 1,
        offset=offset,
        search=search,
        restrict_to=volunteers_visible_to(user=user),
        township_id=township_id,
        village_id=village_id,
    )
    return ranked[:limit], len(ranked) > limit


# --- Candidates ---------------------------------------------------------------------------------


class CandidateQuery(serializers.Serializer[Any]):
    limit = serializers.IntegerField(min_value=1, max_value=MAX_LIMIT, required=False, default=PAGE)
    offset = serializers.IntegerField(min_value=0, max_value=MAX_OFFSET, required=False, default=0)
    search = TextField(
        max_length=MAX_SEARCH, required=False, allow_blank=True, default="", help_text=gettext_lazy("志愿者编号或姓名")
    )
    township = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False, help_text="Where they live.")
    village = serializers.IntegerField(min_value=1, max_value=MAX_ID, required=False, help_text="Where they live.")


class ComponentOutput(serializers.Serializer[Any]):
    name = serializers.CharField(help_text="What this part of the score measures (distance, fairness …).")
    value = serializers.FloatField()


class CandidateOutput(serializers.Serializer[Any]):
    volunteer_id = serializers.IntegerField(source="volunteer.id", help_text="The id to dispatch to.")
    volunteer_number = serializers.CharField(source="volunteer.volunteer_number")
    masked_name = serializers.CharField(source="volunteer.user.masked_name")
    score = serializers.FloatField()
    components = serializers.SerializerMethodField()
    reasons = serializers.ListField(child=serializers.CharField(), help_text="Translated, for people to read.")
    distance_km = serializers.FloatField(allow_null=True)

    @extend_schema_field(ComponentOutput(many=True))
    def get_components(self, candidate: Candidate) -> list[dict[str, Any]]:
        return [{"name": name, "value": float(value)} for name, value in sorted(candidate.components.items())]


class CandidatePageOutput(serializers.Serializer[Any]):
    next = serializers.URLField(allow_null=True, help_text="The following candidates (null: no more).")
    previous = serializers.URLField(allow_null=True)
    results = CandidateOutput(many=True)


class CandidatesView(AuthenticatedAPIView):
    @extend_schema(parameters=[CandidateQuery], responses=CandidatePageOutput)
    @error_codes({400: {}})
    def get(self, request: Request, pk: int) -> Response:
        """The request's candidates, best first, each with its score, the parts of it and the
        reasons shown to staff; only volunteers of the caller's area. ``search`` matches a
        volunteer number or name; ``township`` and ``village`` narrow to where they live."""
        service_request = managed_request(user=self.user, pk=pk)
        query = CandidateQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        values = query.validated_data
        limit, offset = values["limit"], values["offset"]
        candidates, more = candidates_for_staff(
            user=self.user,
            request=service_request,
            limit=limit,
            offset=offset,
            search=values["search"],
            township_id=values.get("township"),
            village_id=values.get("village"),
        )
        url = request.build_absolute_uri()
        previous = None
        if offset > 0:
            previous = (
                replace_query_param(url, "offset", offset - limit)
                if offset > limit
                else remove_query_param(url, "offset")
            )
        page = {
            "next": replace_query_param(url, "offset", offset + limit) if more else None,
            "previous": previous,
            "results": candidates,
        }
        return Response(CandidatePageOutput(page).data)


# --- The queue at work, and the dispatch mode -----------------------------------------------------


class WaveOutput(serializers.Serializer[Any]):
    number = serializers.IntegerField()
    sent_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField(help_text="When the wave's offers expire.")
    offered = serializers.IntegerField(help_text="How many volunteers the wave was offered to.")
    radius_extra_km = serializers.IntegerField(help_text="How far the reach was widened for it.")
    accepted = serializers.ListField(child=serializers.CharField(), help_text="Masked name (number).")
    declined = serializers.ListField(child=serializers.CharField())
    expired = serializers.ListField(child=serializers.CharField(), help_text="Let the offer expire unanswered.")
    released = serializers.ListField(child=serializers.CharField(), help_text="Accepted, then could not go.")
    withdrawn = serializers.ListField(child=serializers.CharField())
    waiting = serializers.ListField(child=serializers.CharField(), help_text="Not answered yet.")


class MatchSummaryOutput(serializers.Serializer[Any]):
    mode = serializers.ChoiceField(choices=DispatchMode.choices, help_text="How the request finds its volunteers.")
    mode_display = serializers.CharField()
    waves = WaveOutput(many=True)
    next_wave_at = serializers.DateTimeField(allow_null=True, help_text="When the next wave goes if nobody answers.")
    needs_person = serializers.CharField(help_text="Why a person must act (empty: nobody needs to).")
    needs_person_display = serializers.CharField()
    escalated_to = serializers.CharField(help_text="The node the request was escalated to (empty: none).")
    widened = serializers.BooleanField(help_text="Whether the reach was widened.")
    team = serializers.CharField(help_text="In team mode: the team it is offered to (empty: none).")


def match_summary_data(service_request: ServiceRequest) -> dict[str, Any]:
    return MatchSummaryOutput(queue_selectors.match_summary(service_request)).data


class MatchSummaryView(AuthenticatedAPIView):
    @extend_schema(responses=MatchSummaryOutput)
    def get(self, request: Request, pk: int) -> Response:
        """The queue at work on the request: its dispatch mode, the waves sent (who accepted,
        declined or let the offer expire, masked), when the next wave is due, and whether it
        needs a person and why."""
        return Response(match_summary_data(managed_request(user=self.user, pk=pk)))


class DispatchModeInput(serializers.Serializer[Any]):
    mode = serializers.ChoiceField(choices=DispatchMode.choices)
    team = serializers.IntegerField(
        min_value=1,
        max_value=MAX_ID,
        required=False,
        allow_null=True,
        help_text="With mode ``team``: a team of your area.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs["mode"] == DispatchMode.TEAM and not attrs.get("team"):
            raise serializers.ValidationError({"team": [_("服务队派单须选择服务队。")]})
        return attrs


class DispatchModeView(AuthenticatedAPIView):
    @extend_schema(
        request=DispatchModeInput,
        responses=MatchSummaryOutput,
        examples=[
            OpenApiExample("自动派单", request_only=True, value={"mode": "auto"}),
            OpenApiExample("服务队派单", request_only=True, value={"mode": "team", "team": 3}),
        ],
    )
    @error_codes(
        {
            400: {
                "team_unavailable": "The team does not exist, is inactive or is outside your area.",
                "team_not_applicable": "A team was given with a mode other than ``team``.",
            },
            409: {"not_dispatchable": "The request's status does not allow changing how it is dispatched."},
        }
    )
    def post(self, request: Request, pk: int) -> Response:
        """Switch how the request finds its volunteers: ``directed`` (staff pick), ``auto`` (the
        queue offers in waves), ``broadcast`` (抢单) or ``team`` (offered to a team of your area)."""
        service_request = managed_request(user=self.user, pk=pk)
        data = DispatchModeInput(data=request.data)
        data.is_valid(raise_exception=True)
        mode = data.validated_data["mode"]
        team = None
        if data.validated_data.get("team"):
            team = teams_in_area(user=self.user).filter(id=data.validated_data["team"], is_active=True).first()
            if team is None:
                raise DomainError(_("该服务队不存在、已停用或不在您的服务范围内。"), code="team_unavailable")
        services.dispatch_mode_set(request=service_request, actor=self.user, mode=mode, team=team)
        return Response(match_summary_data(managed_request(user=self.user, pk=pk)))


staff_api_paths: list[URLPattern] = [
    path("requests/<int:pk>/candidates/", CandidatesView.as_view(), name="request-candidates"),
    path("requests/<int:pk>/matching/", MatchSummaryView.as_view(), name="request-matching"),
    path("requests/<int:pk>/dispatch-mode/", DispatchModeView.as_view(), name="request-dispatch-mode"),
]
