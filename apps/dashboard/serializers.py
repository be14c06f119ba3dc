"""The dashboard API's answers, field by field: what the schema documents and what the views
render through (so the two cannot drift apart). Durations are seconds; rates are 0–1."""

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from apps.organisation.serializers import CategoryRef, PlaceRef
from apps.service_requests.models import Status, Urgency

from .board import Sla
from .models import ReportState

EMPTY = _("不能为空：不需要时请不要传这个参数。")


class BoardCountsOutput(serializers.Serializer[Any]):
    submitted = serializers.IntegerField()
    queued = serializers.IntegerField()
    offered = serializers.IntegerField()
    accepted = serializers.IntegerField()
    in_service = serializers.IntegerField()
    escalated = serializers.IntegerField()


class SlaCountsOutput(serializers.Serializer[Any]):
    green = serializers.IntegerField()
    amber = serializers.IntegerField()
    red = serializers.IntegerField()


class WaitingOutput(serializers.Serializer[Any]):
    request = serializers.IntegerField()
    title = serializers.CharField()
    township = serializers.CharField()
    urgency = serializers.ChoiceField(choices=Urgency.choices)
    status = serializers.ChoiceField(choices=Status.choices)
    submitted_at = serializers.DateTimeField()
    waited_minutes = serializers.IntegerField()
    sla = serializers.ChoiceField(choices=[Sla.GREEN, Sla.AMBER, Sla.RED])
    why = serializers.CharField(help_text="Why a person must act, in the reader's language.")


class BoardOfferOutput(serializers.Serializer[Any]):
    request = serializers.IntegerField()
    volunteer = serializers.CharField(help_text="Masked name.")
    volunteer_number = serializers.CharField(allow_null=True)
    status = serializers.CharField()
    expires_at = serializers.DateTimeField()


class TodayOutput(serializers.Serializer[Any]):
    completed = serializers.IntegerField()
    rated = serializers.IntegerField()
    average_score = serializers.FloatField(allow_null=True)


class TownshipCountOutput(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    name = serializers.CharField()
    open = serializers.IntegerField()


class BoardOutput(serializers.Serializer[Any]):
    now = serializers.DateTimeField()
    counts = BoardCountsOutput(help_text="Open requests by status.")
    waiting_total = serializers.IntegerField()
    sla = SlaCountsOutput(help_text="The requests waiting for a person, by SLA state.")
    waiting = WaitingOutput(many=True, help_text="The oldest 50 waiting for a person, oldest first.")
    unanswered_offers = serializers.IntegerField()
    offers = BoardOfferOutput(many=True, help_text="The 20 unanswered offers closest to expiry.")
    on_duty = serializers.IntegerField(help_text="Volunteers holding a place now (accepted, on the way, serving).")
    on_duty_rows = BoardOfferOutput(many=True)
    today = TodayOutput()
    townships = TownshipCountOutput(many=True, help_text="Open requests per township.")


class CountsOutput(serializers.Serializer[Any]):
    submitted = serializers.IntegerField()
    completed = serializers.IntegerField()
    rejected = serializers.IntegerField()
    cancelled = serializers.IntegerField()
    open = serializers.IntegerField()
    hours = serializers.FloatField()
    rated = serializers.IntegerField()
    score_sum = serializers.IntegerField()
    completion_rate = serializers.FloatField(allow_null=True, help_text="Completed ÷ (submitted − rejected).")
    average_score = serializers.FloatField(allow_null=True)


class TotalsOutput(CountsOutput):
    active_volunteers = serializers.IntegerField(help_text="Volunteers who completed a task on these requests.")


class SeriesRowOutput(CountsOutput):
    period = serializers.DateField(help_text="The day, or the first day of the week (Monday) or month.")


class CategoryRowOutput(CountsOutput):
    category = CategoryRef(source="category_ref")


class TownshipRowOutput(CountsOutput):
    township = PlaceRef(source="township_ref")


class DurationOutput(serializers.Serializer[Any]):
    count = serializers.IntegerField()
    median = serializers.IntegerField(allow_null=True, help_text="Seconds, nearest rank.")
    p90 = serializers.IntegerField(allow_null=True, help_text="Seconds, nearest rank.")


class DurationsOutput(serializers.Serializer[Any]):
    review = DurationOutput(help_text="Submission to review by a person.")
    offer = DurationOutput(help_text="Submission to the first offer.")
    accept = DurationOutput(help_text="Submission to full acceptance.")
    complete = DurationOutput(help_text="Submission to completion.")


class ReasonOutput(serializers.Serializer[Any]):
    code = serializers.CharField(help_text="A system reason's key, or \"typed\" for staff's own words.")
    label = serializers.CharField()  # type: ignore[assignment]  # a field named like Field.label
    count = serializers.IntegerField()


class ReasonsOutput(serializers.Serializer[Any]):
    cancelled = ReasonOutput(many=True)
    rejected = ReasonOutput(many=True)


class ScoreCountOutput(serializers.Serializer[Any]):
    score = serializers.IntegerField()
    count = serializers.IntegerField()


class TagCountOutput(serializers.Serializer[Any]):
    tag = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # a field named like Field.label
    count = serializers.IntegerField()


class SatisfactionOutput(serializers.Serializer[Any]):
    rated = serializers.IntegerField()
    average = serializers.FloatField(allow_null=True)
    distribution = ScoreCountOutput(many=True)
    tags = TagCountOutput(many=True)


class KpiOutput(serializers.Serializer[Any]):
    start = serializers.DateField()
    end = serializers.DateField()
    grain = serializers.ChoiceField(choices=["day", "week", "month"])
    totals = TotalsOutput()
    series = SeriesRowOutput(many=True)
    by_category = CategoryRowOutput(many=True)
    by_township = TownshipRowOutput(many=True)
    durations = DurationsOutput()
    reasons = ReasonsOutput()
    satisfaction = SatisfactionOutput()


class ScorecardOutput(serializers.Serializer[Any]):
    rank = serializers.IntegerField()
    id = serializers.IntegerField(help_text="The volunteer's, team's, station's or township's id.")
    name = serializers.CharField(help_text="A volunteer's name is masked unless they agreed to show it.")
    number = serializers.CharField(help_text="The volunteer's number; empty for the other levels.")
    handled = serializers.IntegerField(help_text="Requests completed.")
    hours = serializers.FloatField()
    rated = serializers.IntegerField()
    average = serializers.FloatField(allow_null=True)
    score = serializers.FloatField(help_text="Satisfaction with the prior: (C × m + Σ ratings) / (C + n).")
    complaints = serializers.IntegerField()
    follow_ups = serializers.IntegerField()
    response_median_seconds = serializers.IntegerField(allow_null=True)
    completion_median_seconds = serializers.IntegerField(allow_null=True)


class PriorOutput(serializers.Serializer[Any]):
    mean = serializers.FloatField(help_text="m: the whole city's average rating in the period.")
    weight = serializers.IntegerField(help_text="C: how many ratings the prior weighs as.")


class ScorecardsOutput(serializers.Serializer[Any]):
    level = serializers.ChoiceField(choices=["volunteer", "team", "station", "township"])
    start = serializers.DateField()
    end = serializers.DateField()
    prior = PriorOutput()
    results = ScorecardOutput(many=True, help_text="The first 100, ranked.")
    total = serializers.IntegerField()
    shortlist = ScorecardOutput(many=True, help_text="The commendation shortlist (volunteers only).")


class ReportOutput(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    month = serializers.CharField(help_text="YYYY-MM")
    township = serializers.IntegerField(allow_null=True, help_text="Null: the whole city.")
    state = serializers.ChoiceField(choices=ReportState.choices)
    progress = serializers.IntegerField(help_text="Percent.")
    error = serializers.CharField()
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)
    download = serializers.CharField(allow_null=True)


class ReportListOutput(serializers.Serializer[Any]):
    results = ReportOutput(many=True)


# Query strings (documented; checked by the forms in ``forms``).


class StrictQuery(serializers.Serializer[Any]):
    """A query string whose parameters, when given, are not empty: ``?township=`` names no
    township (DRF would take it, as a form's empty field, for no value at all)."""

    def to_internal_value(self, data: Any) -> Any:
        empty: dict[str, Any] = {
            str(name): [EMPTY] for name in self.fields if hasattr(data, "get") and data.get(name) == ""
        }
        if empty:
            raise serializers.ValidationError(empty)
        return super().to_internal_value(data)


class BoardQuery(StrictQuery):
    township = serializers.IntegerField(required=False, help_text="A township of the caller's area.")
    urgency = serializers.ChoiceField(choices=Urgency.choices, required=False)
    category = serializers.IntegerField(required=False)


class KpiQueryInput(StrictQuery):
    start = serializers.DateField(required=False, help_text="Default: 29 days before end.")
    end = serializers.DateField(required=False, help_text="Default: today.")
    township = serializers.IntegerField(required=False)
    village = serializers.IntegerField(required=False)
    category = serializers.IntegerField(required=False)
    grain = serializers.ChoiceField(choices=["day", "week", "month"], required=False)


class ScorecardQuery(StrictQuery):
    level = serializers.ChoiceField(choices=["volunteer", "team", "station", "township"], required=False)
    period = serializers.ChoiceField(choices=["month", "year"], required=False)
    month = serializers.CharField(required=False, help_text="YYYY-MM (default: this month).")
    year = serializers.IntegerField(required=False, min_value=2000, max_value=2100)
