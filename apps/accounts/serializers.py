from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.organisation.serializers import OrgNodeRef

from .models import User


class TokenInput(serializers.Serializer):
    phone = serializers.CharField(max_length=20)
    password = serializers.CharField(max_length=128, style={"input_type": "password"}, trim_whitespace=False)


class TokenOutput(serializers.Serializer):
    token = serializers.CharField()


ROLES = [
    ("resident", "Any signed-in person: orders services (点单) and rates them."),
    ("volunteer", "Has a volunteer profile: answers offers (接单)."),
    ("staff", "Works at a node of the practice network (staff_node): reviews and dispatches in its area."),
    ("dispatcher", "Staff of the centre itself: the whole city, and the escalations."),
    ("admin", "An administrator: the whole city and the admin site."),
]


class MeOutput(serializers.ModelSerializer):
    # The caller's own number, in full: /me/ only ever describes the caller.
    phone = serializers.CharField(read_only=True, help_text="Your own number, in full.")
    roles = serializers.SerializerMethodField()
    volunteer_number = serializers.SerializerMethodField()
    staff_node = OrgNodeRef(allow_null=True, read_only=True, help_text="Where you work, if you are staff.")

    class Meta:
        model = User
        fields = ["id", "name", "phone", "email", "roles", "volunteer_number", "staff_node"]

    @extend_schema_field(
        serializers.ListField(
            child=serializers.ChoiceField(choices=ROLES),
            help_text="What you may do: " + "; ".join(f"{role} — {meaning}" for role, meaning in ROLES),
        )
    )
    def get_roles(self, obj: User) -> list[str]:
        roles = ["resident"]
        if obj.is_volunteer:
            roles.append("volunteer")
        if obj.staff_node is not None:
            roles.append("staff")
            if obj.is_dispatcher:
                roles.append("dispatcher")
        if obj.is_superuser:
            roles.append("admin")
        return roles

    @extend_schema_field(serializers.CharField(allow_null=True, help_text="Your volunteer number, if you volunteer."))
    def get_volunteer_number(self, obj: User) -> str | None:
        return obj.volunteer_profile.volunteer_number if obj.is_volunteer else None


LOGIN_FAILED = _("手机号或密码不正确。")
