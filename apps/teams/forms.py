from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from apps.core.fields import TextFormField
from apps.organisation.models import OrgNode, ServiceCategory

from .models import MemberRole, Team, TeamKind


class ReasonForm(forms.Form):
    reason = TextFormField(
        label=_("原因（志愿者会看到）"),
        max_length=200,
        error_messages={"required": _("请填写原因。")},
    )


class InviteForm(forms.Form):
    volunteer_number = TextFormField(
        label=_("志愿者编号"),
        max_length=20,
        help_text=_("如 ZZV0000123，可在志愿者的“我的”页面找到。"),
        error_messages={"required": _("请填写志愿者编号。")},
    )


class RoleForm(forms.Form):
    role = forms.ChoiceField(label=_("角色"), choices=MemberRole.choices)


class TeamCreateForm(forms.Form):
    node = forms.ModelChoiceField(label=_("所属阵地"), queryset=OrgNode.objects.none())
    name = TextFormField(label=_("队名"), max_length=80)
    kind = forms.ChoiceField(label=_("类型"), choices=TeamKind.choices)
    categories = forms.ModelMultipleChoiceField(
        label=_("服务类别"),
        queryset=ServiceCategory.objects.filter(is_active=True),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    description = TextFormField(label=_("简介"), max_length=500, required=False)

    def __init__(self, *args: Any, nodes: QuerySet[OrgNode], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        node_field = self.fields["node"]
        assert isinstance(node_field, forms.ModelChoiceField)
        node_field.queryset = nodes


class AppointForm(forms.Form):
    team = forms.ModelChoiceField(label=_("服务队"), queryset=Team.objects.none())
    volunteer_number = TextFormField(label=_("志愿者编号"), max_length=20)
    role = forms.ChoiceField(label=_("任命为"), choices=MemberRole.choices, initial=MemberRole.LEADER)

    def __init__(self, *args: Any, teams: QuerySet[Team], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        team_field = self.fields["team"]
        assert isinstance(team_field, forms.ModelChoiceField)
        team_field.queryset = teams
