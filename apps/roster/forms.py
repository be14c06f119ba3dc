from typing import TYPE_CHECKING, Any

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from apps.accounts.areas import area_of
from apps.accounts.models import User
from apps.organisation.models import Place

from .reading import MAX_UPLOAD_BYTES

if TYPE_CHECKING:
    # Generic only in the type stubs; not subscriptable at runtime.
    _PlaceField = forms.ModelChoiceField[Place]
else:
    _PlaceField = forms.ModelChoiceField


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("名册文件（.xlsx）"),
        error_messages={"required": _("请选择要上传的名册文件。"), "empty": _("上传的文件是空的。")},
        widget=forms.ClearableFileInput(
            attrs={"accept": ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
        ),
    )

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise ValidationError(
                _("文件太大：不能超过%(max_mb)s MB。"), params={"max_mb": MAX_UPLOAD_BYTES // (1024 * 1024)}
            )
        return upload

    def read_upload(self) -> bytes:
        upload = self.cleaned_data["file"]
        upload.seek(0)
        data: bytes = upload.read()
        return data


class _PlaceChoiceField(_PlaceField):
    def label_from_instance(self, obj: Place) -> str:
        return obj.name


class AreaExportForm(forms.Form):
    """Which part of the user's area to export; blank township and village export all of it.
    The choices offered are the places of the area, but any real place is accepted here: one
    outside the area is the view's 404, not a form error."""

    township = _PlaceChoiceField(
        label=_("乡镇/街道"),
        queryset=Place.objects.filter(kind=Place.Kind.TOWNSHIP),
        required=False,
        empty_label=_("全部"),
        error_messages={"invalid_choice": _("没有这个乡镇/街道。")},
    )
    village = _PlaceChoiceField(
        label=_("村/社区"),
        queryset=Place.objects.filter(kind=Place.Kind.VILLAGE).select_related("parent"),
        required=False,
        empty_label=_("全部"),
        error_messages={"invalid_choice": _("没有这个村/社区。")},
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        area = area_of(user)
        self.township_choices: QuerySet[Place] = Place.objects.filter(kind=Place.Kind.TOWNSHIP).order_by("code", "name")
        self.village_choices: QuerySet[Place] = (
            Place.objects.filter(kind=Place.Kind.VILLAGE).select_related("parent").order_by("parent__code", "name")
        )
        if area.village_id is not None:
            self.township_choices = self.township_choices.filter(children__id=area.village_id)
            self.village_choices = self.village_choices.filter(id=area.village_id)
        elif area.township_id is not None:
            self.township_choices = self.township_choices.filter(id=area.township_id)
            self.village_choices = self.village_choices.filter(parent_id=area.township_id)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        township: Place | None = cleaned.get("township")
        village: Place | None = cleaned.get("village")
        if village is not None:
            if township is None:
                cleaned["township"] = village.parent
            elif village.parent_id != township.id:
                raise ValidationError(_("所选村/社区不属于所选乡镇/街道。"), code="village_not_in_township")
        return cleaned
