"""The OpenAPI schema of the REST API: drf-spectacular's, with the errors each operation can answer.

Every error has the body :func:`apps.core.api.exception_handler` gives it. Which statuses an
operation documents follows from how it is built, so a new endpoint is described without a
decorator of its own:

- 400 — it reads a body (validation, a rule of the business), its viewset filters by the query
  string, or it is a paginated list (a bad ``page_size``);
- 401 — it needs a signed-in caller (no or a bad token; the answer carries
  ``WWW-Authenticate: Token``);
- 403 — the caller may not do this (a permission, or a session's missing CSRF token);
- 404 — it names an object in its path, or it is a paginated list (a page past the end);
- 409 — it acts on an object whose state may no longer allow it;
- 413 — it reads a body, which may be too large or have too many fields;
- 415 — it reads a body, in a media type it does not parse;
- 429 — it is throttled (log-in)."""

from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from rest_framework import serializers
from rest_framework.permissions import AllowAny


class ErrorOutput(serializers.Serializer[Any]):
    detail = serializers.CharField(help_text="The message, translated, to show as it is.")
    code = serializers.CharField(help_text='What went wrong, for programs: "invalid", "not_found", "stale_status", …')
    # SerializerMetaclass pops declared fields off the class, so this does not replace the
    # ``Serializer.errors`` property at runtime; the stubs cannot see that.
    errors = serializers.DictField(  # type: ignore[assignment]
        required=False,
        help_text='With code "invalid": the messages for each field that is wrong ("non_field_errors" for the body).',
    )


class AutoSchema(SpectacularAutoSchema):
    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        for code in self._error_statuses():
            if str(code) not in responses:
                responses[str(code)] = self._get_response_for_code(ErrorOutput, str(code), direction=direction)
        return responses

    def _get_filter_parameters(self) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = super()._get_filter_parameters()
        for parameter in parameters:
            # django-filter takes ``?village=`` as no filter at all, which OpenAPI says so. Not a
            # list (``?status=``): its empty item is a choice that does not exist, a 400.
            if parameter.get("schema", {}).get("type") != "array":
                parameter["allowEmptyValue"] = True
        return parameters

    def _reads_body(self) -> bool:
        return self.method in ("POST", "PUT", "PATCH") and self.get_request_serializer() is not None

    def _error_statuses(self) -> list[int]:
        view = self.view
        has_path_object = "{" in self.path
        paginated = self._is_list_view() and self._get_paginator() is not None
        statuses = set()
        # The viewset's filters also narrow get_object(), so a bad query string is a 400 on its detail routes too.
        if self._reads_body() or getattr(view, "filterset_class", None) is not None or paginated:
            statuses.add(400)
        if not all(isinstance(permission, AllowAny) for permission in view.get_permissions()):
            statuses.update({401, 403})
        elif view.authentication_classes:
            statuses.add(403)  # a session without its CSRF token
        if has_path_object or paginated:
            statuses.add(404)
        if has_path_object and self.method != "GET":
            statuses.add(409)
        if self._reads_body():
            statuses.update({413, 415})
        if view.get_throttles():
            statuses.add(429)
        return sorted(statuses)
