from django import forms
from django.utils.translation import gettext_lazy as _

from apps.core.fields import TextFormField

from .models import FollowUpOutcome
from .services import CALL_NOTES_MAX, SAMPLE_MAX

REACHED_CHOICES = [("yes", _("已联系上")), ("no", _("未联系上"))]


def _yes(value: str) -> bool:
    return value == "yes"


class CallForm(forms.Form):
    """One 回访 call: whether the resident was reached, what was said, and, to close the case,
    its outcome. The rules between the fields (an outcome only to close) are the service's."""

    reached = forms.TypedChoiceField(
        label=_("是否联系上群众"),
        choices=REACHED_CHOICES,
        coerce=_yes,
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择是否联系上群众。")},
    )
    notes = TextFormField(
        label=_("回访记录"),
        multiline=True,
        max_length=CALL_NOTES_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    outcome = forms.ChoiceField(
        label=_("回访结果（办结时必选）"),
        choices=[("", _("未办结")), *FollowUpOutcome.choices],
        required=False,
    )
    close = forms.BooleanField(
        label=_("办结"), required=False, help_text=_("办结后会把回访结果告知群众，不能再记录回访。")
    )


class SampleForm(forms.Form):
    count = forms.IntegerField(
        label=_("抽样数量"),
        min_value=1,
        max_value=SAMPLE_MAX,
        initial=5,
        help_text=_("从近30天内已完成服务、尚未回访的工单中随机抽取。"),
    )
