from django.contrib.auth import views as auth_views
from django.urls import path

from .views import CodeLoginView, LoginView, PasswordResetView, RegisterView, privacy_notice

app_name = "accounts"
urlpatterns = [
    path("login/", LoginView.as_view(), name="login"),
    path("login/code/", CodeLoginView.as_view(), name="login_code"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("register/", RegisterView.as_view(), name="register"),
    path("password/reset/", PasswordResetView.as_view(), name="password_reset"),
    path("privacy/", privacy_notice, name="privacy"),
]
