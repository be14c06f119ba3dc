from collections.abc import Callable

from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.authentication import BaseAuthentication
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from apps.core.api import AuthenticatedAPIView
from apps.core.schema import error_codes

from .models import User
from .serializers import (
    LOGIN_FAILED,
    CodeTokenInput,
    MeOutput,
    PasswordResetInput,
    RegisterInput,
    SmsCodeInput,
    SmsCodeOutput,
    TokenInput,
    TokenOutput,
)
from .services import resident_register, user_for_login_code, user_set_password_with_code
from .throttling import LoginDecision, login_attempt_allowed, record_login_failure, record_login_success
from .verification import CodeThrottled, code_sent_message, sms_code_send


class LoginLocked(exceptions.Throttled):
    """429 with Retry-After (set by DRF's handler for Throttled) and the lockout's own message."""

    def __init__(self, decision: LoginDecision) -> None:
        exceptions.APIException.__init__(self, detail=decision.message, code="throttled")
        self.wait = decision.retry_after


class TokenView(APIView):
    """Exchange phone number and password for an API token."""

    permission_classes = [AllowAny]
    authentication_classes: list[type[BaseAuthentication]] = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "login"

    @extend_schema(
        request=TokenInput,
        responses=TokenOutput,
        examples=[
            OpenApiExample("登录", request_only=True, value={"phone": "13812345678", "password": "••••••••"}),
            OpenApiExample("令牌", response_only=True, value={"token": "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"}),
        ],
    )
    def post(self, request: Request) -> Response:
        data = TokenInput(data=request.data)
        data.is_valid(raise_exception=True)
        phone = data.validated_data["phone"]
        decision = login_attempt_allowed(request._request, phone)
        if not decision.allowed:
            raise LoginLocked(decision)
        user = authenticate(request._request, username=phone, password=data.validated_data["password"])
        if user is None:
            record_login_failure(request._request, phone)
            raise serializers.ValidationError({"phone": [LOGIN_FAILED]})
        record_login_success(request._request, phone)
        token, _created = Token.objects.get_or_create(user=user)
        return Response(TokenOutput({"token": token.key}).data)


class MeView(AuthenticatedAPIView):
    @extend_schema(responses=MeOutput)
    def get(self, request: Request) -> Response:
        return Response(MeOutput(self.user).data)


# --- one-time codes by SMS -----------------------------------------------------------------------


class CodeRefused(exceptions.Throttled):
    """429 with Retry-After and the code's own message and ``code``."""

    def __init__(self, throttled: CodeThrottled) -> None:
        exceptions.APIException.__init__(self, detail=throttled.message, code=throttled.code)
        self.wait = throttled.retry_after


SEND_THROTTLED = {
    "sms_resend_too_soon": "A code was sent to this number for this purpose less than 60 s ago.",
    "sms_phone_limit": "This number has had its codes for this hour (5 by default).",
    "sms_address_limit": "This client address has asked for its codes for this hour (20 by default).",
}
CHECK_THROTTLED = {
    "code_attempts_exceeded": "The code has had 5 wrong tries and is dead: ask for a new one.",
}
SMS_UNAVAILABLE = {503: {"sms_unavailable": "The SMS provider did not take the message; ask again."}}


def _code_checked(call: Callable[[], User]) -> User:
    """Run a service that uses a code, turning its refusals into the API's answers."""
    try:
        return call()
    except DjangoValidationError as error:
        raise serializers.ValidationError({"code": error.messages}) from None
    except CodeThrottled as throttled:
        raise CodeRefused(throttled) from None


def _token(user: User) -> Response:
    token, _created = Token.objects.get_or_create(user=user)
    return Response(TokenOutput({"token": token.key}).data)


class _PublicView(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list[type[BaseAuthentication]] = []


class SmsCodeView(_PublicView):
    """Send a one-time code by SMS. For ``login`` and ``reset_password`` the answer is the same
    whether or not the number has an account (the code is only sent if it has)."""

    @extend_schema(
        request=SmsCodeInput,
        responses=SmsCodeOutput,
        examples=[
            OpenApiExample("注册验证码", request_only=True, value={"phone": "13812345678", "purpose": "register"}),
            OpenApiExample(
                "已发送",
                response_only=True,
                value={"detail": "验证码已发送到 138****5678，5 分钟内有效。", "resend_after": 60, "expires_in": 300},
            ),
        ],
    )
    @error_codes({429: SEND_THROTTLED, **SMS_UNAVAILABLE})
    def post(self, request: Request) -> Response:
        data = SmsCodeInput(data=request.data)
        data.is_valid(raise_exception=True)
        phone, purpose = data.validated_data["phone"], data.validated_data["purpose"]
        try:
            sent = sms_code_send(phone=phone, purpose=purpose, request=request._request)
        except CodeThrottled as throttled:
            raise CodeRefused(throttled) from None
        body = {
            "detail": code_sent_message(phone=phone, purpose=purpose),
            "resend_after": sent.resend_after,
            "expires_in": sent.expires_in,
        }
        return Response(SmsCodeOutput(body).data)


class RegisterView(_PublicView):
    """Register a resident with the code sent for ``register``; answers an API token."""

    @extend_schema(
        request=RegisterInput,
        responses={201: TokenOutput},
        examples=[
            OpenApiExample(
                "注册",
                request_only=True,
                value={
                    "phone": "13812345678",
                    "code": "123456",
                    "name": "王秀兰",
                    "password": "••••••••",
                    "village": 12,
                    "privacy_consent": True,
                },
            ),
        ],
    )
    @error_codes(
        {
            409: {"phone_registered": "The number already has an account: log in with a code, or set a password."},
            429: CHECK_THROTTLED,
        }
    )
    def post(self, request: Request) -> Response:
        data = RegisterInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        user = _code_checked(
            lambda: resident_register(
                phone=values["phone"],
                code=values["code"],
                name=values["name"],
                password=values["password"],
                village=values["village"],
            )
        )
        response = _token(user)
        response.status_code = 201
        return response


class PasswordResetView(_PublicView):
    """Set a new password with the code sent for ``reset_password`` (also for an account that
    never had one). Every earlier token of the account stops working; answers a new one."""

    @extend_schema(
        request=PasswordResetInput,
        responses=TokenOutput,
        examples=[
            OpenApiExample(
                "设置密码", request_only=True, value={"phone": "13812345678", "code": "123456", "password": "••••••••"}
            ),
        ],
    )
    @error_codes({429: CHECK_THROTTLED})
    def post(self, request: Request) -> Response:
        data = PasswordResetInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        user = _code_checked(
            lambda: user_set_password_with_code(phone=values["phone"], code=values["code"], password=values["password"])
        )
        return _token(user)


class CodeTokenView(_PublicView):
    """Exchange phone number and the code sent for ``login`` for an API token (no password)."""

    @extend_schema(
        request=CodeTokenInput,
        responses=TokenOutput,
        examples=[OpenApiExample("验证码登录", request_only=True, value={"phone": "13812345678", "code": "123456"})],
    )
    @error_codes({429: CHECK_THROTTLED})
    def post(self, request: Request) -> Response:
        data = CodeTokenInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        user = _code_checked(lambda: user_for_login_code(phone=values["phone"], code=values["code"]))
        return _token(user)
