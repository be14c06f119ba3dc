from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from .models import User


class TokenInput(serializers.Serializer):
    phone = serializers.CharField(max_length=20)
    password = serializers.CharField(max_length=128, style={"input_type": "password"}, trim_whitespace=False)


class TokenOutput(serializers.Serializer):
    token = serializers.CharField()


class MeOutput(serializers.ModelSerializer):
    # The caller's own number, in full: /me/ only ever describes the caller.
    phone = serializers.CharField(read_only=True)
    roles = serializers.SerializerMethodField()
    volunteer_number = serializers.SerializerMethodField()
    staff_node = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = ["id", "name", "phone", "email", "roles", "volunteer_number", "staff_node"]

    def get_roles(self, obj: User) -> list[str]:
        roles = ["resident"]
        if obj.is_volunteer:
            roles.append("volunteer")
        if obj.staff_node is not None:
            roles.append("dispatcher" if obj.is_dispatcher else "station_staff")
        if obj.is_superuser:
            roles.append("admin")
        return roles

    def get_volunteer_number(self, obj: User) -> str | None:
        return obj.volunteer_profile.volunteer_number if obj.is_volunteer else None

    def get_staff_node(self, obj: User) -> dict | None:
        if obj.staff_node is None:
            return None
        return {"id": obj.staff_node.id, "name": obj.staff_node.name, "kind": obj.staff_node.kind}


LOGIN_FAILED = _("手机号或密码不正确。")
