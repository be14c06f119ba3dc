from django.contrib.auth import views as auth_views
from django.http import HttpResponse

from .forms import LockoutAuthenticationForm, PhoneLoginForm


class LoginView(auth_views.LoginView):
    """The page log-in; a locked-out attempt answers 429 with Retry-After, the form saying when."""

    authentication_form = PhoneLoginForm
    template_name = "accounts/login.html"

    def form_invalid(self, form: LockoutAuthenticationForm) -> HttpResponse:  # type: ignore[override]
        response = super().form_invalid(form)
        if form.lockout is not None:
            response.status_code = 429
            response["Retry-After"] = str(form.lockout.retry_after)
        return response
