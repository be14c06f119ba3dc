from django.contrib.auth import authenticate
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

from .serializers import LOGIN_FAILED, MeOutput, TokenInput, TokenOutput
from .throttling import LoginDecision, login_attempt_allowed, record_login_failure, record_login_success


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
