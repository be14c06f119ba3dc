from typing import Any

from rest_framework import serializers

from apps.core.fields import TextField
from apps.core.serializers import FieldsBuiltOnce
from apps.organisation.serializers import OrgNodeRef

from .models import FollowUp, FollowUpCall, FollowUpOutcome, FollowUpReason, FollowUpStatus, Rating, Tag
from .services import CALL_NOTES_MAX, SAMPLE_MAX


class RatingInput(serializers.Serializer[Any]):
    score = serializers.IntegerField(min_value=1, max_value=5)
    tags = serializers.ListField(
        child=serializers.ChoiceField(choices=Tag.choices), required=False, default=list, max_length=6
    )
    comment = TextField(multiline=True, max_length=500, required=False, allow_blank=True, default="")


class RatingOutput(serializers.ModelSerializer[Rating]):
    score = serializers.IntegerField(min_value=1, max_value=5)
    tags = serializers.ListField(child=serializers.ChoiceField(choices=Tag.choices))
    on_behalf = serializers.BooleanField(help_text="Given by staff for the resident (by phone, at the desk).")

    class Meta:
        model = Rating
        fields = ["score", "tags", "comment", "on_behalf", "created_at"]


# --- follow-up (回访) --------------------------------------------------------------------------------


class StrictBooleanField(serializers.BooleanField):
    """A boolean that must be given: in a form body too, where DRF would take a missing one as false."""

    default_empty_html = serializers.empty


class FollowUpCallInput(serializers.Serializer[Any]):
    reached = StrictBooleanField(help_text="Whether the resident was reached on this call.")
    notes = TextField(multiline=True, max_length=CALL_NOTES_MAX, required=False, allow_blank=True, default="")
    outcome = serializers.ChoiceField(
        choices=FollowUpOutcome.choices,
        required=False,
        allow_blank=True,
        allow_null=True,
        default=None,
        help_text="Only to close the case, and then required.",
    )
    close = serializers.BooleanField(
        required=False, default=False, help_text="Close the case with `outcome`; the resident is told it."
    )


class FollowUpSampleInput(serializers.Serializer[Any]):
    count = serializers.IntegerField(min_value=1, max_value=SAMPLE_MAX)


class FollowUpRequestRef(serializers.Serializer[Any]):
    """The request a case is about: its number and title."""

    id = serializers.IntegerField()
    title = serializers.CharField()


class FollowUpCallOutput(FieldsBuiltOnce, serializers.ModelSerializer[FollowUpCall]):
    called_by = serializers.CharField(source="called_by.masked_name", help_text="The staff member, masked.")

    class Meta:
        model = FollowUpCall
        fields = ["id", "called_at", "called_by", "reached", "notes"]


class FollowUpOutput(FieldsBuiltOnce, serializers.ModelSerializer[FollowUp]):
    """A 回访 case as staff of its area see it: the resident's masked name only, never a phone."""

    request = FollowUpRequestRef()
    station = OrgNodeRef()
    reason = serializers.ChoiceField(choices=FollowUpReason.choices)
    reason_display = serializers.CharField(source="get_reason_display")
    status = serializers.ChoiceField(choices=FollowUpStatus.choices)
    status_display = serializers.CharField(source="get_status_display")
    overdue = serializers.BooleanField(source="is_overdue", help_text="Still open past `due_at`.")
    resident = serializers.CharField(source="request.requester.masked_name", help_text="Masked (王*兰).")
    score = serializers.IntegerField(
        source="request.rating.score", allow_null=True, help_text="The rating's score; null if not rated."
    )
    reached = serializers.BooleanField(allow_null=True, help_text="On the closing call; null while open.")
    outcome = serializers.ChoiceField(choices=FollowUpOutcome.choices, allow_blank=True)
    outcome_display = serializers.CharField(source="get_outcome_display")
    closed_by = serializers.CharField(source="closed_by.masked_name", allow_null=True)

    class Meta:
        model = FollowUp
        fields = [
            "id",
            "request",
            "station",
            "reason",
            "reason_display",
            "status",
            "status_display",
            "opened_at",
            "due_at",
            "overdue",
            "escalated_at",
            "closed_at",
            "closed_by",
            "reached",
            "outcome",
            "outcome_display",
            "notes",
            "resident",
            "score",
        ]


class FollowUpDetailOutput(FollowUpOutput):
    """A case with the rating that opened it (if any) and its calls, oldest first."""

    rating = RatingOutput(source="request.rating", allow_null=True)
    calls = FollowUpCallOutput(many=True)

    class Meta(FollowUpOutput.Meta):
        fields = [*FollowUpOutput.Meta.fields, "rating", "calls"]
