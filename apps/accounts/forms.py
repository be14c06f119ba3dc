from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import authenticate
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .throttling import LoginDecision, login_attempt_allowed, record_login_failure, record_login_success


def _phone_field() -> forms.CharField:
    return forms.CharField(
        label=_("手机号"),
        max_length=20,
        widget=forms.TextInput(attrs={"autofocus": True, "inputmode": "tel", "autocomplete": "tel"}),
    )


class LockoutAuthenticationForm(AuthenticationForm):
    """``AuthenticationForm.clean`` behind the log-in lockout (apps.accounts.throttling): a locked
    account or address is refused before the password is checked, a wrong password is counted,
    a successful log-in clears the account's count."""

    lockout: LoginDecision | None = None

    def clean(self) -> dict[str, Any]:
        phone = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if phone is not None and password:
            decision = login_attempt_allowed(self.request, phone)
            if not decision.allowed:
                self.lockout = decision
                raise ValidationError(decision.message, code="login_locked")
            self.user_cache = authenticate(self.request, username=phone, password=password)
            if self.user_cache is None:
                record_login_failure(self.request, phone)
                raise self.get_invalid_login_error()
            self.confirm_login_allowed(self.user_cache)
            record_login_success(self.request, phone)
        return self.cleaned_data


class PhoneLoginForm(LockoutAuthenticationForm):
    """Log in with a phone number; the auth backend looks it up by its keyed hash."""

    username = _phone_field()
    error_messages = {
        "invalid_login": _("手机号或密码不正确。"),
        "inactive": _("该账户已停用。"),
    }


class AdminLoginForm(LockoutAuthenticationForm, AdminAuthenticationForm):
    """The admin site's log-in: a phone number, behind the same lockout as the other log-ins."""

    username = _phone_field()
