from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from apps.accounts.phones import validate_contact_phone, validate_mobile
from apps.core.fields import TextFormField
from apps.organisation.forms import VillageField
from apps.organisation.selectors import active_categories
from apps.ratings.models import SCORE_WORDS, Tag
from apps.service_requests.models import Channel, Urgency
from apps.service_requests.services import RequestInput

# 一键求助: one sentence, its first words the title.
HELP_SENTENCE_MAX = 200
HELP_TITLE_MAX = 30


class RequestForm(forms.Form):
    category = forms.ModelChoiceField(label=_("需要什么服务"), queryset=active_categories(), empty_label=_("请选择"))
    title = TextFormField(label=_("标题"), max_length=80, help_text=_("一句话说明，例如：帮忙修理水龙头"))
    description = TextFormField(
        multiline=True, label=_("详细说明"), max_length=2000, widget=forms.Textarea(attrs={"rows": 4})
    )
    village = VillageField(label=_("所在村/社区"))
    address = TextFormField(label=_("详细地址"), max_length=200)
    contact_name = TextFormField(label=_("联系人"), max_length=50)
    contact_phone = TextFormField(
        label=_("联系电话"), max_length=20, widget=forms.TextInput(attrs={"inputmode": "tel"})
    )
    urgency = forms.ChoiceField(label=_("紧急程度"), choices=Urgency.choices, initial=Urgency.NORMAL)
    volunteers_needed = forms.IntegerField(label=_("需要几位志愿者"), min_value=1, max_value=20, initial=1)
    window_start = forms.DateTimeField(
        label=_("希望开始时间"), required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    window_end = forms.DateTimeField(
        label=_("希望结束时间"), required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )

    def clean_contact_phone(self) -> str:
        return validate_contact_phone(self.cleaned_data["contact_phone"])

    def clean(self) -> dict:
        data = super().clean() or {}
        start, end = data.get("window_start"), data.get("window_end")
        if start and end and end <= start:
            self.add_error("window_end", _("结束时间须晚于开始时间。"))
        return data

    def to_input(self) -> RequestInput:
        return RequestInput.from_values(self.cleaned_data)


class OnBehalfRequestForm(RequestForm):
    requester_name = TextFormField(label=_("群众姓名"), max_length=50)
    requester_phone = TextFormField(
        label=_("群众手机号"), max_length=20, widget=forms.TextInput(attrs={"inputmode": "tel"})
    )
    channel = forms.ChoiceField(
        label=_("来源"), choices=[(Channel.PHONE, Channel.PHONE.label), (Channel.DESK, Channel.DESK.label)]
    )
    # Most callers are the resident themselves: their name and phone need not be typed twice.
    contact_is_requester = forms.BooleanField(
        label=_("联系人就是该群众"),
        required=False,
        initial=True,
        help_text=_("勾选后，联系人和联系电话按群众姓名和手机号填写，下面两项可不填。"),
    )

    field_order = [
        "requester_name",
        "requester_phone",
        "channel",
        "category",
        "title",
        "description",
        "village",
        "address",
        "contact_is_requester",
        "contact_name",
        "contact_phone",
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Required unless the box is ticked: checked in clean(), where the box is known.
        self.fields["contact_name"].required = False
        self.fields["contact_phone"].required = False

    def clean_requester_phone(self) -> str:
        return validate_mobile(self.cleaned_data["requester_phone"])

    def clean_contact_phone(self) -> str:
        phone = self.cleaned_data.get("contact_phone") or ""
        return validate_contact_phone(phone) if phone else ""

    def clean(self) -> dict:
        data = super().clean()
        if data.get("contact_is_requester"):
            # The resident's own, whatever was typed below: the box says they are the contact.
            data["contact_name"] = data.get("requester_name", "")
            data["contact_phone"] = data.get("requester_phone", "")
            for name in ("contact_name", "contact_phone"):
                self.errors.pop(name, None)
            return data
        for name in ("contact_name", "contact_phone"):
            if name not in self.errors and not data.get(name):
                self.add_error(name, self.fields[name].error_messages["required"])
        return data


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(choices=[("accept", _("受理")), ("reject", _("不予受理"))])
    reason = TextFormField(label=_("原因"), max_length=500, required=False)

    def clean(self) -> dict:
        data = super().clean() or {}
        if data.get("decision") == "reject" and not (data.get("reason") or "").strip():
            raise ValidationError(_("不予受理时必须填写原因。"))
        return data


class DispatchForm(forms.Form):
    volunteer_ids = forms.TypedMultipleChoiceField(label=_("选择志愿者"), coerce=int)

    def __init__(self, *args: Any, volunteer_choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        volunteer_ids = self.fields["volunteer_ids"]
        assert isinstance(volunteer_ids, forms.TypedMultipleChoiceField)
        volunteer_ids.choices = volunteer_choices


class ReasonForm(forms.Form):
    reason = TextFormField(label=_("原因"), max_length=500, required=False)


class RequiredReasonForm(forms.Form):
    reason = TextFormField(label=_("原因"), max_length=500)


class CompleteForm(forms.Form):
    report = TextFormField(
        multiline=True, label=_("服务小结"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class RatingForm(forms.Form):
    score = forms.TypedChoiceField(
        label=_("满意度"),
        coerce=int,
        choices=list(SCORE_WORDS.items()),
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择满意程度。")},
    )
    tags = forms.MultipleChoiceField(
        label=_("标签"), choices=Tag.choices, required=False, widget=forms.CheckboxSelectMultiple
    )
    comment = TextFormField(
        multiline=True, label=_("评语"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class HelpForm(forms.Form):
    """一键求助: the short form for the elder who just wants help — what kind, one sentence (a
    phone's voice input fills it), where and the phone number, both filled in from the account.
    Everything else takes the defaults of 点单; the station calls back for the details."""

    category = forms.ModelChoiceField(
        label=_("需要什么帮助"),
        queryset=active_categories(),
        widget=forms.RadioSelect,
        empty_label=None,
        error_messages={"required": _("请选择需要什么帮助。")},
    )
    what = TextFormField(
        label=_("说一句话"),
        max_length=HELP_SENTENCE_MAX,
        help_text=_("例如：家里水管漏水了。可以点键盘上的话筒说话。"),
        widget=forms.Textarea(attrs={"rows": 2, "enterkeyhint": "done"}),
        error_messages={"required": _("请说一句需要什么帮助。")},
    )
    village = VillageField(label=_("所在村/社区"))
    address = TextFormField(label=_("门牌号（可不填）"), max_length=200, required=False)
    contact_phone = TextFormField(
        label=_("联系电话"), max_length=20, widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"})
    )

    def clean_contact_phone(self) -> str:
        return validate_contact_phone(self.cleaned_data["contact_phone"])

    def to_input(self, *, contact_name: str) -> RequestInput:
        what = self.cleaned_data["what"]
        village = self.cleaned_data["village"]
        return RequestInput(
            category=self.cleaned_data["category"],
            title=what if len(what) <= HELP_TITLE_MAX else what[: HELP_TITLE_MAX - 1] + "…",
            description=what,
            village=village,
            # Staff call back for the house number when none was given.
            address=self.cleaned_data["address"] or village.name,
            contact_name=contact_name,
            contact_phone=self.cleaned_data["contact_phone"],
            urgency=Urgency.NORMAL,
        )
