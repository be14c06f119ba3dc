import re
from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth import authenticate
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from apps.core.text import clean_number, clean_text
from apps.organisation.forms import VillageField

from .models import User
from .passwords import check_new_password
from .phones import validate_mobile
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


# --- registration, log-in by code and password reset (one-time codes by SMS) ---------------------


class MobileField(forms.CharField):
    """A mobile number as typed (full-width digits, spaces, +86 allowed); cleaned to 11 digits."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("手机号"))
        kwargs.setdefault("error_messages", {"required": _("请输入手机号。")})
        kwargs.setdefault(
            "widget", forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel", "autofocus": True})
        )
        super().__init__(max_length=20, **kwargs)

    def clean(self, value: Any) -> str:
        return validate_mobile(super().clean(value))


class CodeField(forms.CharField):
    """The six digits of a one-time code (full-width digits and spaces forgiven)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("短信验证码"))
        kwargs.setdefault("error_messages", {"required": _("请输入短信验证码。")})
        widget = forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": "6", "pattern": "[0-9]*"}
        )
        super().__init__(max_length=12, widget=widget, **kwargs)

    def clean(self, value: Any) -> str:
        code = clean_number(super().clean(value))
        if not re.fullmatch(r"\d{6}", code):
            raise ValidationError(_("请输入短信中的6位数字验证码。"), code="invalid_code")
        return code


class NewPasswordMixin(forms.Form):
    """Two password fields that must agree and pass the password validators."""

    password1 = forms.CharField(
        label=_("设置密码"),
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("至少8位，不能全是数字，不能太常见。"),
    )
    password2 = forms.CharField(
        label=_("再输一次密码"),
        strip=False,
        max_length=128,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean_password2(self) -> str:
        first, second = self.cleaned_data.get("password1"), self.cleaned_data["password2"]
        if first is not None and first != second:
            raise ValidationError(_("两次输入的密码不一致。"), code="password_mismatch")
        return str(second)

    def _validate_password(self, user: User | None) -> None:
        password = self.cleaned_data.get("password1")
        if password and "password2" in self.cleaned_data:
            try:
                check_new_password(password, user)
            except ValidationError as error:
                self.add_error("password1", error)


class RegisterForm(NewPasswordMixin):
    phone = MobileField()
    code = CodeField()
    name = forms.CharField(
        label=_("姓名"),
        max_length=50,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
        error_messages={"required": _("请填写姓名。")},
    )
    village = VillageField(label=_("常住村/社区"))
    privacy_consent = forms.BooleanField(
        label=_("我已阅读并同意隐私政策"),
        error_messages={"required": _("请阅读并同意隐私政策后再注册。")},
    )
    field_order = ["phone", "code", "name", "password1", "password2", "village", "privacy_consent"]

    def clean_name(self) -> str:
        name = clean_text(self.cleaned_data["name"])
        if not name:
            raise ValidationError(_("请填写姓名。"), code="required")
        return name

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        self._validate_password(User(phone=cleaned.get("phone", ""), name=cleaned.get("name", "")))
        return cleaned


class PasswordResetForm(NewPasswordMixin):
    phone = MobileField()
    code = CodeField()
    field_order = ["phone", "code", "password1", "password2"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        self._validate_password(None)
        return cleaned


class CodeLoginForm(forms.Form):
    phone = MobileField()
    code = CodeField()
