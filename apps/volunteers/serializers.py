from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.accounts.phones import validate_contact_phone, validate_mobile
from apps.core.fields import IdField, TextField
from apps.core.masking import mask_phone
from apps.core.serializers import FieldsBuiltOnce
from apps.organisation.selectors import active_categories, villages
from apps.organisation.serializers import CategoryRef, PlaceRef

from . import availability as weekly
from .identity import ADULT_AGE, age_on, mask_id
from .models import (
    ApplicationStatus,
    Gender,
    IdType,
    PoliticalStatus,
    Skill,
    VolunteerEvent,
    VolunteerProfile,
)
from .services import MAX_RADIUS_KM, check_identity, check_service_fields


class VolunteerOutput(FieldsBuiltOnce, serializers.ModelSerializer):
    """What staff see when choosing whom to dispatch: masked name, never the phone."""

    name = serializers.CharField(source="user.masked_name")
    home_township = PlaceRef()
    home_village = PlaceRef(allow_null=True)
    categories = CategoryRef(many=True, help_text="The service categories the volunteer serves.")

    class Meta:
        model = VolunteerProfile
        fields = [
            "id",
            "volunteer_number",
            "name",
            "home_township",
            "home_village",
            "categories",
            "is_verified",
            "is_active",
        ]


# --- Input ---------------------------------------------------------------------------------------

AVAILABILITY_HELP = (
    "Weekly slots the volunteer is free, e.g. ``sat_afternoon`` (mon … sun × morning/afternoon/evening)."
)


def _to_drf(exc: DjangoValidationError) -> serializers.ValidationError:
    return serializers.ValidationError(
        {
            field: [str(message) for error in errors for message in error.messages]
            for field, errors in exc.error_dict.items()
        }
    )


class ServiceFieldsInput(serializers.Serializer[Any]):
    village = IdField(queryset=villages(), help_text="The home village or community (a place of kind village).")
    service_radius_km = serializers.IntegerField(min_value=1, max_value=MAX_RADIUS_KM, default=5)
    categories = IdField(
        queryset=active_categories(),
        many=True,
        allow_empty=False,
        error_messages={"empty": _("请至少选择一个服务类别。")},
    )
    skills = serializers.ListField(
        child=serializers.ChoiceField(choices=Skill.choices), required=False, default=list, max_length=len(Skill.values)
    )
    availability = serializers.ListField(
        child=serializers.ChoiceField(choices=weekly.choices()),
        min_length=1,
        max_length=len(weekly.CODES),
        help_text=AVAILABILITY_HELP,
        error_messages={"min_length": _("请至少选择一个可服务时段。")},
    )
    political_status = serializers.ChoiceField(choices=PoliticalStatus.choices, required=False, allow_blank=True)
    occupation = TextField(max_length=50, required=False, allow_blank=True, default="")
    emergency_contact_name = TextField(max_length=50, required=False, allow_blank=True, default="")
    emergency_contact_phone = TextField(max_length=20, required=False, allow_blank=True, default="")
    public_name_consent = serializers.BooleanField(required=False, default=False)

    def validate_availability(self, value: list[str]) -> int:
        return weekly.mask_from_codes(value)

    def validate_emergency_contact_phone(self, value: str) -> str:
        return validate_contact_phone(value) if value else ""

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs.setdefault("political_status", "")
        try:
            check_service_fields(
                categories=attrs["categories"],
                skills=attrs.get("skills", []),
                availability=attrs["availability"],
                service_radius_km=attrs.get("service_radius_km", 5),
                political_status=attrs["political_status"],
                emergency_contact_phone=attrs.get("emergency_contact_phone", ""),
                village=attrs["village"],
            )
        except DjangoValidationError as exc:
            raise _to_drf(exc) from None
        return attrs


class ApplicationInputSerializer(ServiceFieldsInput):
    """志愿者注册 (POST) or its resubmission after a rejection (PUT; an empty ``id_number`` keeps
    the document on file)."""

    name = TextField(max_length=50, help_text="Real name, as on the document.")
    id_type = serializers.ChoiceField(choices=IdType.choices)
    id_number = TextField(
        max_length=40,
        allow_blank=True,
        help_text="居民身份证 and 居住证: 18 characters (full-width digits and a lowercase x are accepted).",
    )
    gender = serializers.ChoiceField(
        choices=Gender.choices, required=False, allow_blank=True, help_text="Passport only."
    )
    birth_date = serializers.DateField(required=False, allow_null=True, help_text="Passport only.")
    guardian_name = TextField(max_length=50, required=False, allow_blank=True, default="")
    guardian_phone = TextField(max_length=20, required=False, allow_blank=True, default="")
    guardian_consent = serializers.BooleanField(required=False, default=False, help_text="Required under 18.")
    privacy_consent = serializers.BooleanField(help_text="Must be true: consent to the processing of the ID number.")

    def validate_guardian_phone(self, value: str) -> str:
        return validate_mobile(value) if value else ""

    def validate_privacy_consent(self, value: bool) -> bool:
        if not value:
            raise serializers.ValidationError(str(_("请阅读并同意个人信息处理说明。")))
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs = super().validate(attrs)
        attrs.setdefault("gender", "")
        keep: VolunteerProfile | None = self.context.get("keep")
        number = attrs["id_number"]
        if not number:
            if keep is None or attrs["id_type"] != keep.id_type or not keep.id_number:
                raise serializers.ValidationError({"id_number": [str(_("请填写证件号码。"))]})
            number = keep.id_number
        try:
            check_identity(
                id_type=attrs["id_type"],
                id_number=number,
                gender=attrs["gender"],
                birth_date=attrs.get("birth_date"),
                guardian_name=attrs.get("guardian_name", ""),
                guardian_phone=attrs.get("guardian_phone", ""),
                guardian_consent=attrs.get("guardian_consent", False),
            )
        except DjangoValidationError as exc:
            raise _to_drf(exc) from None
        return attrs


class ProfileUpdateInput(ServiceFieldsInput):
    """What a volunteer may change (PATCH: any of these; the rest stays)."""

    share_phone_with_residents = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Show my mobile to the residents I serve, so they can call me directly; "
        "otherwise they call the station's hotline.",
    )


class ApplicationReasonInput(serializers.Serializer[Any]):
    reason = TextField(max_length=200, help_text="Why; kept with the step (and shown to the applicant on a rejection).")


class LeaveInput(serializers.Serializer[Any]):
    confirm = serializers.BooleanField(help_text="Must be true: the account is anonymised and cannot be restored.")

    def validate_confirm(self, value: bool) -> bool:
        if not value:
            raise serializers.ValidationError(str(_("请确认后再退出。")))
        return value


# --- Output --------------------------------------------------------------------------------------


class VolunteerEventOutput(FieldsBuiltOnce, serializers.ModelSerializer):
    actor = serializers.SerializerMethodField(help_text="Who did it (masked name); null for the system.")

    class Meta:
        model = VolunteerEvent
        fields = ["kind", "from_status", "to_status", "actor", "reason", "at"]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_actor(self, obj: VolunteerEvent) -> str | None:
        return obj.actor.masked_name if obj.actor is not None else None


class _ProfileOutputBase(serializers.ModelSerializer):
    home_township = PlaceRef()
    home_village = PlaceRef(allow_null=True)
    categories = CategoryRef(many=True)
    skills = serializers.ListField(child=serializers.ChoiceField(choices=Skill.choices))
    availability = serializers.SerializerMethodField()
    id_number = serializers.SerializerMethodField(help_text="Masked: region and last four.")
    phone = serializers.SerializerMethodField(help_text="Masked.")

    @extend_schema_field(
        serializers.ListField(child=serializers.ChoiceField(choices=weekly.choices()), help_text=AVAILABILITY_HELP)
    )
    def get_availability(self, obj: VolunteerProfile) -> list[str]:
        return weekly.codes_from_mask(obj.availability)

    @extend_schema_field(serializers.CharField())
    def get_phone(self, obj: VolunteerProfile) -> str:
        return obj.user.masked_phone

    @extend_schema_field(serializers.CharField())
    def get_id_number(self, obj: VolunteerProfile) -> str:
        return mask_id(obj.id_number)


COMMON_OUTPUT_FIELDS = [
    "id",
    "status",
    "volunteer_number",
    "name",
    "gender",
    "id_type",
    "id_number",
    "phone",
    "home_township",
    "home_village",
    "service_radius_km",
    "categories",
    "skills",
    "availability",
    "political_status",
    "occupation",
    "guardian_name",
    "guardian_consent_at",
    "rejection_reason",
    "submitted_at",
    "reviewed_at",
    "is_verified",
    "is_active",
]


class ApplicationOutput(_ProfileOutputBase):
    """The caller's own registration: personal numbers masked, the reason of a rejection."""

    name = serializers.CharField(source="user.name")
    birth_date = serializers.DateField(allow_null=True)
    emergency_contact_phone = serializers.SerializerMethodField(help_text="Masked.")
    status = serializers.ChoiceField(choices=ApplicationStatus.choices)

    class Meta:
        model = VolunteerProfile
        fields = [
            *COMMON_OUTPUT_FIELDS,
            "birth_date",
            "emergency_contact_name",
            "emergency_contact_phone",
            "public_name_consent",
            "share_phone_with_residents",
        ]

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_emergency_contact_phone(self, obj: VolunteerProfile) -> str | None:
        return mask_phone(obj.emergency_contact_phone) if obj.emergency_contact_phone else None


class ApplicationListOutput(FieldsBuiltOnce, serializers.ModelSerializer):
    """A registration in the review queue of the staff member's area."""

    name = serializers.CharField(source="user.name", help_text="Real name, to verify against the document.")
    home_township = PlaceRef()
    home_village = PlaceRef(allow_null=True)
    status = serializers.ChoiceField(choices=ApplicationStatus.choices)

    class Meta:
        model = VolunteerProfile
        fields = ["id", "status", "volunteer_number", "name", "home_township", "home_village", "submitted_at"]


class ApplicationStaffOutput(_ProfileOutputBase):
    """One registration for its reviewers: the real name to verify, the age (Art. 15), numbers
    masked (the full document only through ``reveal-id``), and every step."""

    name = serializers.CharField(source="user.name")
    age = serializers.SerializerMethodField()
    is_minor = serializers.SerializerMethodField(help_text="Under 18: a guardian consented.")
    guardian_phone = serializers.SerializerMethodField(help_text="Masked.")
    status = serializers.ChoiceField(choices=ApplicationStatus.choices)
    events = VolunteerEventOutput(many=True)

    class Meta:
        model = VolunteerProfile
        fields = [*COMMON_OUTPUT_FIELDS, "age", "is_minor", "guardian_phone", "events"]

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_age(self, obj: VolunteerProfile) -> int | None:
        return age_on(obj.birth_date) if obj.birth_date else None

    @extend_schema_field(serializers.BooleanField())
    def get_is_minor(self, obj: VolunteerProfile) -> bool:
        return obj.birth_date is not None and age_on(obj.birth_date) < ADULT_AGE

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_guardian_phone(self, obj: VolunteerProfile) -> str | None:
        return mask_phone(obj.guardian_phone) if obj.guardian_phone else None


class RevealOutput(serializers.Serializer[Any]):
    id_number = serializers.CharField(help_text="The full number. This reveal was recorded (who, whom, when, why).")
