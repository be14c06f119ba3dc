from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _


class PhoneLoginForm(AuthenticationForm):
    """Log in with a phone number; the auth backend looks it up by its keyed hash."""

    username = forms.CharField(
        label=_("手机号"),
        max_length=20,
        widget=forms.TextInput(attrs={"autofocus": True, "inputmode": "tel", "autocomplete": "tel"}),
    )
    error_messages = {
        "invalid_login": _("手机号或密码不正确。"),
        "inactive": _("该账户已停用。"),
    }
