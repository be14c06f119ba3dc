import re
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.core.text import clean_number, clean_text
from apps.organisation.models import Place
from apps.organisation.serializers import OrgNodeRef

from .models import CodePurpose, User
from .passwords import check_new_password
from .phones import validate_mobile


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


# --- one-time codes: registration, log-in by code, password reset --------------------------------


class MobileInput(serializers.CharField):
    """A mobile number as typed; validated and normalised to 11 digits."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault(
            "help_text", "A mainland mobile number (11 digits; +86, spaces and full-width digits allowed)."
        )
        super().__init__(max_length=20, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        try:
            return validate_mobile(super().to_internal_value(data))
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from None


class CodeInput(serializers.CharField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", "The six digits of the code sent by SMS.")
        super().__init__(max_length=12, **kwargs)

    def to_internal_value(self, data: Any) -> str:
        code = clean_number(super().to_internal_value(data))
        if not re.fullmatch(r"\d{6}", code):
            raise serializers.ValidationError(_("请输入短信中的6位数字验证码。"))
        return code


class SmsCodeInput(serializers.Serializer):
    phone = MobileInput()
    purpose = serializers.ChoiceField(
        choices=CodePurpose.choices,
        help_text="What the code is for: register (a new account), login (log in without the password), "
        "reset_password (set a new password, also for an account that never had one).",
    )


class SmsCodeOutput(serializers.Serializer):
    detail = serializers.CharField(help_text="What to tell the person (translated).")
    resend_after = serializers.IntegerField(help_text="Seconds until another code may be asked for.")
    expires_in = serializers.IntegerField(help_text="Seconds the code lives.")


def _check_password(password: str, user: User | None) -> str:
    try:
        check_new_password(password, user)
    except DjangoValidationError as error:
        raise serializers.ValidationError({"password": error.messages}) from None
    return password


class RegisterInput(serializers.Serializer):
    phone = MobileInput()
    code = CodeInput()
    name = serializers.CharField(max_length=50, help_text="The person's name.")
    password = serializers.CharField(max_length=128, style={"input_type": "password"}, trim_whitespace=False)
    village = serializers.PrimaryKeyRelatedField(
        queryset=Place.objects.filter(kind=Place.Kind.VILLAGE).select_related("parent"),
        help_text="The id of the home village or community (a place of kind village); its township is its parent.",
        error_messages={"does_not_exist": _("没有这个村/社区，请重新选择。"), "incorrect_type": _("请选择村/社区。")},
    )
    privacy_consent = serializers.BooleanField(help_text="Must be true: consent to the privacy notice at /privacy/.")

    def validate_name(self, value: str) -> str:
        name = clean_text(value)
        if not name:
            raise serializers.ValidationError(_("请填写姓名。"))
        return name

    def validate_privacy_consent(self, value: bool) -> bool:
        if not value:
            raise serializers.ValidationError(_("请阅读并同意隐私政策后再注册。"))
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        _check_password(attrs["password"], User(phone=attrs["phone"], name=attrs["name"]))
        return attrs


class PasswordResetInput(serializers.Serializer):
    phone = MobileInput()
    code = CodeInput()
    password = serializers.CharField(
        max_length=128, style={"input_type": "password"}, trim_whitespace=False, help_text="The new password."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        _check_password(attrs["password"], None)
        return attrs


class CodeTokenInput(serializers.Serializer):
    phone = MobileInput()
    code = CodeInput()
