"""Forms of the sign-up, the volunteer's own page and the review pages."""

from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import ValidationError

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise
from django.utils.translation import gettext_lazy as _

from apps.accounts.phones import validate_contact_phone, validate_mobile
from apps.core.fields import TextFormField
from apps.organisation.forms import VillageField
from apps.organisation.selectors import active_categories

from . import availability
from .identity import mask_id
from .models import DAYS, SLOTS, Gender, IdType, PoliticalStatus, Skill, VolunteerProfile
from .services import MAX_RADIUS_KM, ApplicationInput, ProfileInput, check_identity, check_service_fields


class CategoriesField(forms.ModelMultipleChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return str(obj.display_name)


class AvailabilityField(forms.MultipleChoiceField):
    """The 7 × 3 grid of checkboxes; its cleaned value is the bit mask."""

    widget = forms.CheckboxSelectMultiple
    default_error_messages = {
        "required": _("请至少选择一个可服务时段。"),
        "invalid_choice": _("时段 %(value)s 不存在。"),
    }

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(choices=availability.choices, label=_("每周可服务时段"), **kwargs)

    def clean(self, value: Any) -> int:
        return availability.mask_from_codes(super().clean(value))

    def prepare_value(self, value: Any) -> Any:
        return availability.codes_from_mask(value) if isinstance(value, int) else value


class ServiceFieldsForm(forms.Form):
    """What every volunteer offers: shared by the sign-up and the volunteer's own page."""

    village = VillageField(label=_("常住村/社区"))
    service_radius_km = forms.IntegerField(label=_("服务半径（公里）"), min_value=1, max_value=MAX_RADIUS_KM, initial=5)
    categories = CategoriesField(
        label=_("愿意参加的服务类别"),
        queryset=active_categories(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("请至少选择一个服务类别。")},
    )
    skills = forms.MultipleChoiceField(
        label=_("技能特长"), choices=Skill.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    availability = AvailabilityField()
    political_status = forms.ChoiceField(
        label=_("政治面貌（选填）"), choices=[("", _("不填")), *PoliticalStatus.choices], required=False
    )
    occupation = TextFormField(label=_("职业（选填）"), max_length=50, required=False)
    emergency_contact_name = TextFormField(label=_("紧急联系人（选填）"), max_length=50, required=False)
    emergency_contact_phone = TextFormField(
        label=_("紧急联系人电话（选填）"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel"}),
    )
    public_name_consent = forms.BooleanField(
        label=_("同意在光荣榜等公开场合显示我的姓名（不勾选则显示为张*明）"), required=False
    )

    def clean_emergency_contact_phone(self) -> str:
        value = self.cleaned_data["emergency_contact_phone"]
        return validate_contact_phone(value) if value else ""

    def _check_service_fields(self, data: dict[str, Any]) -> None:
        if not all(name in data for name in ("village", "categories", "availability", "service_radius_km")):
            return  # their own errors are shown already
        try:
            check_service_fields(
                categories=list(data["categories"]),
                skills=data.get("skills", []),
                availability=data["availability"],
                service_radius_km=data["service_radius_km"],
                political_status=data.get("political_status", ""),
                emergency_contact_phone=data.get("emergency_contact_phone", ""),
                village=data["village"],
            )
        except ValidationError as exc:
            self._add_errors(exc)

    def _add_errors(self, exc: ValidationError) -> None:
        for field, errors in exc.error_dict.items():
            for error in errors:
                if field in self.fields:
                    if field in self.cleaned_data:
                        self.add_error(field, error)
                else:
                    self.add_error(None, error)


class ApplicationForm(ServiceFieldsForm):
    """志愿者注册. For 居民身份证 and 居住证 the birth date and gender come from the number; only a
    passport holder types them. ``resubmit`` (after a rejection): an empty number keeps the one
    on file."""

    name = TextFormField(label=_("真实姓名"), max_length=50)
    id_type = forms.ChoiceField(
        label=_("证件类型"), choices=IdType.choices, initial=IdType.RESIDENT_ID, widget=forms.RadioSelect
    )
    id_number = TextFormField(
        label=_("证件号码"), max_length=40, widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"})
    )
    gender = forms.ChoiceField(
        label=_("性别（仅护照填写）"), choices=[("", _("请选择")), *Gender.choices], required=False
    )
    birth_date = forms.DateField(
        label=_("出生日期（仅护照填写）"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    guardian_name = TextFormField(label=_("监护人姓名（未满18周岁必填）"), max_length=50, required=False)
    guardian_phone = TextFormField(
        label=_("监护人手机号（未满18周岁必填）"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel"}),
    )
    guardian_consent = forms.BooleanField(label=_("监护人已知悉并同意我注册成为志愿者"), required=False)
    privacy_consent = forms.BooleanField(
        label=_("我已阅读并同意《志愿者个人信息处理说明》，同意平台为实名核验处理我的证件号码等敏感个人信息"),
        error_messages={"required": _("请阅读并同意个人信息处理说明。")},
    )

    field_order = [
        "name",
        "id_type",
        "id_number",
        "gender",
        "birth_date",
        "village",
        "service_radius_km",
        "categories",
        "skills",
        "availability",
        "political_status",
        "occupation",
        "emergency_contact_name",
        "emergency_contact_phone",
        "guardian_name",
        "guardian_phone",
        "guardian_consent",
        "public_name_consent",
        "privacy_consent",
    ]

    def __init__(self, *args: Any, keep: VolunteerProfile | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.keep = keep
        if keep is not None:
            self.fields["id_number"].required = False
            self.fields["id_number"].help_text = _("已登记：%(masked)s。不修改请留空。") % {
                "masked": mask_id(keep.id_number)
            }

    def clean_guardian_phone(self) -> str:
        value = self.cleaned_data["guardian_phone"]
        return validate_mobile(value) if value else ""

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        self._check_service_fields(data)
        id_type = data.get("id_type")
        number = data.get("id_number", "")
        if id_type is None or "id_number" not in data:
            return data
        if self.keep is not None and not number:
            if id_type != self.keep.id_type or not self.keep.id_number:
                self.add_error("id_number", _("更换证件类型时请重新填写证件号码。"))
                return data
            number = self.keep.id_number
        try:
            check_identity(
                id_type=id_type,
                id_number=number,
                gender=data.get("gender", ""),
                birth_date=data.get("birth_date"),
                guardian_name=data.get("guardian_name", ""),
                guardian_phone=data.get("guardian_phone", ""),
                guardian_consent=data.get("guardian_consent", False),
            )
        except ValidationError as exc:
            self._add_errors(exc)
        return data

    def to_input(self) -> ApplicationInput:
        return ApplicationInput.from_values({**self.cleaned_data, "categories": list(self.cleaned_data["categories"])})

    @staticmethod
    def initial_from(profile: VolunteerProfile) -> dict[str, Any]:
        """The rejected application, to fix (the document number is not put back in the page)."""
        return {
            "name": profile.user.name,
            "id_type": profile.id_type,
            "gender": profile.gender if profile.id_type == IdType.PASSPORT else "",
            "birth_date": profile.birth_date if profile.id_type == IdType.PASSPORT else None,
            "village": profile.home_village_id,
            "service_radius_km": profile.service_radius_km,
            "categories": [c.id for c in profile.categories.all()],
            "skills": profile.skills,
            "availability": profile.availability,
            "political_status": profile.political_status,
            "occupation": profile.occupation,
            "emergency_contact_name": profile.emergency_contact_name,
            "guardian_name": profile.guardian_name,
            "public_name_consent": profile.public_name_consent,
        }


class ProfileForm(ServiceFieldsForm):
    """The volunteer's own page: what they offer, not who they are; and whether the residents
    they serve may call them directly."""

    # What it means is said right under the form (templates/volunteers/profile.html), in the
    # paragraph the box names as its description.
    share_phone_with_residents = forms.BooleanField(
        label=_("同意向我服务的群众显示我的手机号"),
        required=False,
        widget=forms.CheckboxInput(attrs={"aria-describedby": "share-phone-explained"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        self._check_service_fields(data)
        return data

    def to_input(self) -> ProfileInput:
        return ProfileInput.from_values({**self.cleaned_data, "categories": list(self.cleaned_data["categories"])})

    @staticmethod
    def initial_from(profile: VolunteerProfile) -> dict[str, Any]:
        return {
            "village": profile.home_village_id,
            "service_radius_km": profile.service_radius_km,
            "categories": [c.id for c in profile.categories.all()],
            "skills": profile.skills,
            "availability": profile.availability,
            "political_status": profile.political_status,
            "occupation": profile.occupation,
            "emergency_contact_name": profile.emergency_contact_name,
            "emergency_contact_phone": profile.emergency_contact_phone or "",
            "public_name_consent": profile.public_name_consent,
            "share_phone_with_residents": profile.share_phone_with_residents,
        }


class RequiredReasonForm(forms.Form):
    reason = TextFormField(
        label=_("原因"),
        max_length=200,
        error_messages={"required": _("请填写原因。")},
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args: Any, label: "str | _StrPromise | None" = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if label is not None:  # two reasons on one page need two names (a screen reader reads the label)
            self.fields["reason"].label = label


class LeaveForm(forms.Form):
    confirm = forms.BooleanField(
        label=_("我已了解以上内容，确认退出平台"),
        error_messages={"required": _("请勾选确认后再退出。")},
    )


def availability_rows(form: forms.Form) -> list[tuple[Any, list[Any]]]:
    """The availability checkboxes of a bound form, one row per day (for the 7 × 3 grid)."""
    boxes = list(form["availability"])
    per_day = len(SLOTS)
    return [(DAYS[d], boxes[d * per_day : (d + 1) * per_day]) for d in range(len(DAYS))]
