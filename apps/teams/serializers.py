from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.fields import TextField
from apps.core.serializers import FieldsBuiltOnce
from apps.organisation.serializers import CategoryRef, OrgNodeRef

from .models import MemberRole, MembershipStatus, Team, TeamKind, TeamMembership


class TeamLeaderRef(serializers.Serializer[Any]):
    """A leader or admin of a team, as anyone who sees the team sees them: masked name only."""

    name = serializers.CharField(source="volunteer.user.masked_name")
    role = serializers.ChoiceField(choices=MemberRole.choices)


class MyMembershipRef(serializers.Serializer[Any]):
    """The reader's own live membership of the team (applied, invited or active)."""

    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=MembershipStatus.choices)
    role = serializers.ChoiceField(choices=MemberRole.choices)


class TeamOutput(FieldsBuiltOnce, serializers.ModelSerializer[Team]):
    """A team: where it belongs, what it serves, its leaders (masked), and for the reader their
    own membership and whether they manage it (see its members, decide on applications)."""

    node = OrgNodeRef()
    kind = serializers.ChoiceField(choices=TeamKind.choices)
    kind_display = serializers.CharField(source="get_kind_display")
    categories = CategoryRef(many=True)
    leaders = TeamLeaderRef(many=True)
    my_membership = serializers.SerializerMethodField()
    can_manage = serializers.SerializerMethodField()

    class Meta:
        model = Team
        fields = [
            "id",
            "name",
            "kind",
            "kind_display",
            "node",
            "categories",
            "description",
            "is_active",
            "leaders",
            "my_membership",
            "can_manage",
        ]

    @extend_schema_field(MyMembershipRef(allow_null=True))
    def get_my_membership(self, obj: Team) -> dict[str, Any] | None:
        mine: dict[int, TeamMembership] = self.context.get("my_memberships", {})
        membership = mine.get(obj.id)
        return MyMembershipRef(membership).data if membership is not None else None

    def get_can_manage(self, obj: Team) -> bool:
        return obj.id in self.context.get("managed_ids", set())


class MemberOutput(FieldsBuiltOnce, serializers.ModelSerializer[TeamMembership]):
    """A membership as the team's managers see it: masked name and phone, platform number;
    never the ID number or the phone in clear."""

    team = serializers.IntegerField(source="team_id")
    volunteer_number = serializers.CharField(source="volunteer.volunteer_number", allow_null=True)
    name = serializers.CharField(source="volunteer.user.masked_name")
    phone = serializers.CharField(source="volunteer.user.masked_phone")
    role = serializers.ChoiceField(choices=MemberRole.choices)
    role_display = serializers.CharField(source="get_role_display")
    status = serializers.ChoiceField(choices=MembershipStatus.choices)
    status_display = serializers.CharField(source="get_status_display")
    decision_reason = serializers.CharField()

    class Meta:
        model = TeamMembership
        fields = [
            "id",
            "team",
            "volunteer_number",
            "name",
            "phone",
            "role",
            "role_display",
            "status",
            "status_display",
            "decision_reason",
            "created_at",
            "joined_at",
        ]


class TeamRef(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    name = serializers.CharField()


class MembershipOutput(FieldsBuiltOnce, serializers.ModelSerializer[TeamMembership]):
    """A membership: the reader's own, or one of a team they manage (masked, as for members)."""

    team = TeamRef()
    volunteer_number = serializers.CharField(source="volunteer.volunteer_number", allow_null=True)
    name = serializers.CharField(source="volunteer.user.masked_name")
    role = serializers.ChoiceField(choices=MemberRole.choices)
    status = serializers.ChoiceField(choices=MembershipStatus.choices)
    status_display = serializers.CharField(source="get_status_display")
    decision_reason = serializers.CharField()

    class Meta:
        model = TeamMembership
        fields = [
            "id",
            "team",
            "volunteer_number",
            "name",
            "role",
            "status",
            "status_display",
            "decision_reason",
            "created_at",
            "status_changed_at",
            "joined_at",
        ]


class InviteInput(serializers.Serializer[Any]):
    volunteer_number = TextField(max_length=20, help_text=_("志愿者编号（ZZV…）"))


class ReasonInput(serializers.Serializer[Any]):
    reason = TextField(max_length=200, help_text=_("原因（志愿者会看到）"))
