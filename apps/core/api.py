"""Shared pieces of the REST API: the error format and the scoped base view."""

from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext_lazy as _
from django.views import defaults
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.serializers import ModelSerializer
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.viewsets import GenericViewSet

from .errors import DomainError

if TYPE_CHECKING:
    from apps.accounts.models import User


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Every error is JSON: ``{"detail": <translated message>, "code": ..., "errors": {...}}``."""
    if isinstance(exc, DomainError):
        return Response({"detail": str(exc.message), "code": exc.code}, status=exc.status_code)
    # A body too large or with too many fields is Django's SuspiciousOperation: left to raise,
    # it reaches ``bad_request`` below, which answers in this same shape.
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(_("未找到，或您无权查看。"))
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = {
            "detail": str(_("提交的内容有误，请检查后重试。")),
            "code": "invalid",
            "errors": response.data if isinstance(response.data, dict) else {"non_field_errors": response.data},
        }
    elif isinstance(response.data, dict) and "detail" in response.data:
        detail = response.data["detail"]
        response.data = {"detail": str(detail), "code": getattr(detail, "code", "error")}
    return response


TOO_LARGE = _("提交的内容太大。")
TOO_MANY_FIELDS = _("提交的字段太多。")


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's 400, for what fails before a view runs (a body too large or with too many
    fields, a bad host): under ``/api/`` the API's JSON error, elsewhere the site's page."""
    if request.path.startswith("/api/"):
        if isinstance(exception, RequestDataTooBig):
            body, status = {"detail": str(TOO_LARGE), "code": "too_large"}, 413
        elif isinstance(exception, TooManyFieldsSent | TooManyFilesSent):
            body, status = {"detail": str(TOO_MANY_FIELDS), "code": "too_many_fields"}, 413
        else:
            body, status = {"detail": str(_("请求有误。")), "code": "bad_request"}, 400
        return JsonResponse(body, status=status, json_dumps_params={"ensure_ascii": False})
    return defaults.bad_request(request, exception)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Django's 404 for a URL that no route matches (``/api/v1/requests/1.5/``): under ``/api/``
    the JSON error every other API error is, elsewhere the usual page."""
    if request.path.startswith("/api/"):
        body = {"detail": str(_("未找到，或您无权查看。")), "code": "not_found"}
        return JsonResponse(body, status=404, json_dumps_params={"ensure_ascii": False})
    return defaults.page_not_found(request, exception)


class AuthenticatedAPIView(APIView):
    """Base of API views behind ``IsAuthenticated`` (the default permission): ``self.user`` is
    the signed-in ``User``, typed as such, where ``request.user`` may also be ``AnonymousUser``."""

    @property
    def user(self) -> "User":
        user = self.request.user
        assert user.is_authenticated, "the permission classes let an anonymous request through"
        return user


class ScopedViewSet(AuthenticatedAPIView, GenericViewSet):
    """A viewset whose queryset always comes from a selector scoped to the user.

    Subclasses implement :meth:`get_scoped_queryset`. Setting ``queryset`` or overriding
    ``get_queryset`` is refused when the class is defined, so an unscoped read cannot happen
    by forgetting the scope. A viewset that truly reads unscoped data (public reference data)
    says so with ``dangerously_unscoped = "<why>"``, which is easy to find in review.
    """

    dangerously_unscoped: str = ""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__dict__.get("dangerously_unscoped"):
            return
        if getattr(cls, "queryset", None) is not None:
            raise TypeError(f"{cls.__name__} must not set queryset; implement get_scoped_queryset()")
        if cls.get_queryset is not ScopedViewSet.get_queryset:
            raise TypeError(f"{cls.__name__} must not override get_queryset; implement get_scoped_queryset()")

    def get_scoped_queryset(self) -> QuerySet:
        raise NotImplementedError

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        # django-filter builds and validates a form of every filter on each request; a list asked
        # for with none of them in its query string is the queryset as it is, without that cost.
        filterset_class = getattr(self, "filterset_class", None)
        if filterset_class is not None and not set(self.request.query_params) & set(filterset_class.base_filters):
            return queryset
        return super().filter_queryset(queryset)

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):
            # Schema generation runs without a user: describe the model, read nothing.
            serializer_class = self.get_serializer_class()
            assert issubclass(serializer_class, ModelSerializer), "a scoped viewset serializes a model"
            model: type[Model] = serializer_class.Meta.model
            return model._default_manager.none()
        return self.get_scoped_queryset()
