from typing import Any, ClassVar

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.http import require_safe

from apps.core.errors import DomainError
from apps.organisation.selectors import centre_hotline

from .forms import CodeLoginForm, LockoutAuthenticationForm, PasswordResetForm, PhoneLoginForm, RegisterForm
from .models import CodePurpose, User
from .phones import normalize_phone
from .services import resident_register, user_for_login_code, user_set_password_with_code
from .verification import CodeThrottled, code_sent_message, sms_code_send

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


class LoginView(auth_views.LoginView):
    """The page log-in; a locked-out attempt answers 429 with Retry-After, the form saying when."""

    authentication_form = PhoneLoginForm
    template_name = "accounts/login.html"

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        # For whoever cannot manage the phone: the centre's 服务热线, one tap away.
        return {**super().get_context_data(**kwargs), "hotline": centre_hotline()}

    def form_invalid(self, form: LockoutAuthenticationForm) -> HttpResponse:  # type: ignore[override]
        response = super().form_invalid(form)
        if form.lockout is not None:
            response.status_code = 429
            response["Retry-After"] = str(form.lockout.retry_after)
        return response


class CodePageView(View):
    """A page whose form proves a phone number with a code sent by SMS.

    The form posts to the page itself: with the button ``send_code`` it sends a code to the number
    typed (and shows the form again, filled in); otherwise it checks the whole form and calls
    :meth:`done`. With JavaScript the send button asks the API instead and counts down its 60 s."""

    form_class: ClassVar[type[forms.Form]]
    purpose: ClassVar[CodePurpose]
    template_name: ClassVar[str]
    # What a re-shown form keeps of what was typed (never passwords, never the code).
    kept_fields: ClassVar[tuple[str, ...]] = ("phone",)

    def get(self, request: HttpRequest) -> HttpResponse:
        return self.show(request, self.form_class(initial=self.initial(request)))

    def initial(self, request: HttpRequest) -> dict[str, Any]:
        return {}

    def post(self, request: HttpRequest) -> HttpResponse:
        if "send_code" in request.POST:
            return self.send_code(request)
        form = self.form_class(request.POST)
        if form.is_valid():
            try:
                return self.done(request, form)
            except ValidationError as error:
                form.add_error("code", error)
            except CodeThrottled as throttled:
                form.add_error("code", throttled.message)
                return self.show(request, form, status=429, retry_after=throttled.retry_after)
            except DomainError as error:
                form.add_error(None, str(error.message))
        return self.show(request, form)

    def send_code(self, request: HttpRequest) -> HttpResponse:
        kept: dict[str, Any] = {name: request.POST.get(name, "") for name in self.kept_fields if name in request.POST}
        if request.POST.get("privacy_consent"):
            kept["privacy_consent"] = True
        form = self.form_class(initial=kept)
        phone = request.POST.get("phone", "")
        context: dict[str, Any] = {}
        status, retry_after = 200, None
        try:
            sent = sms_code_send(phone=phone, purpose=self.purpose, request=request)
        except ValidationError as error:
            context["sms_error"] = " ".join(error.messages)
            status = 400
        except CodeThrottled as throttled:
            context["sms_error"] = throttled.message
            status, retry_after = 429, throttled.retry_after
            if throttled.code == "sms_resend_too_soon":
                context["resend_wait"] = throttled.retry_after
        except DomainError as error:
            context["sms_error"] = str(error.message)
            status = error.status_code
        else:
            context["sms_sent"] = code_sent_message(phone=normalize_phone(phone), purpose=self.purpose)
            context["resend_wait"] = sent.resend_after
        return self.show(request, form, status=status, retry_after=retry_after, **context)

    def show(
        self, request: HttpRequest, form: forms.Form, *, status: int = 200, retry_after: int | None = None, **extra: Any
    ) -> HttpResponse:
        context = {"form": form, "purpose": self.purpose.value, "next": self.next_url(request), **extra}
        response = render(request, self.template_name, context, status=status)
        if retry_after is not None:
            response["Retry-After"] = str(retry_after)
        return response

    def next_url(self, request: HttpRequest) -> str:
        target = request.POST.get("next") or request.GET.get("next") or ""
        if target and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return target
        return ""

    def done(self, request: HttpRequest, form: Any) -> HttpResponse:
        raise NotImplementedError


class RegisterView(CodePageView):
    """注册: a resident's account, proved by a code sent to the phone; signed in at once."""

    form_class = RegisterForm
    purpose = CodePurpose.REGISTER
    template_name = "accounts/register.html"
    kept_fields = ("phone", "name", "village")

    def get(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            return redirect("core:home")
        return super().get(request)

    def done(self, request: HttpRequest, form: RegisterForm) -> HttpResponse:
        data = form.cleaned_data
        user = resident_register(
            phone=data["phone"],
            code=data["code"],
            name=data["name"],
            password=data["password1"],
            village=data["village"],
        )
        login(request, user, backend=MODEL_BACKEND)
        messages.success(request, _("注册成功，欢迎使用涿州i志愿！"))
        return redirect("workflow:my_requests")


class CodeLoginView(CodePageView):
    """验证码登录: log in with a code sent to the phone instead of the password."""

    form_class = CodeLoginForm
    purpose = CodePurpose.LOGIN
    template_name = "accounts/login_code.html"

    def done(self, request: HttpRequest, form: CodeLoginForm) -> HttpResponse:
        user = user_for_login_code(phone=form.cleaned_data["phone"], code=form.cleaned_data["code"])
        login(request, user, backend=MODEL_BACKEND)
        return redirect(self.next_url(request) or settings.LOGIN_REDIRECT_URL)


class PasswordResetView(CodePageView):
    """忘记密码 / 设置密码: a new password, proved by a code sent to the phone. Also how a person
    who never had a password (imported from a roster, registered by staff) sets one."""

    form_class = PasswordResetForm
    purpose = CodePurpose.RESET_PASSWORD
    template_name = "accounts/password_reset.html"

    def initial(self, request: HttpRequest) -> dict[str, Any]:
        user = request.user
        return {"phone": user.phone} if isinstance(user, User) else {}

    def done(self, request: HttpRequest, form: PasswordResetForm) -> HttpResponse:
        data = form.cleaned_data
        user = user_set_password_with_code(phone=data["phone"], code=data["code"], password=data["password1"])
        login(request, user, backend=MODEL_BACKEND)
        messages.success(request, _("密码已设置好，您已登录。下次可以用手机号和新密码登录。"))
        return redirect(self.next_url(request) or settings.LOGIN_REDIRECT_URL)


@require_safe
def privacy_notice(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/privacy.html", {"version": settings.PRIVACY_NOTICE_VERSION})
