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
- 429 — it is throttled (log-in).

Each error response lists the values its ``code`` may take (an ``enum`` in the schema, so a
client can switch on it and the API's own fuzzing fails on an undocumented one): the codes any
operation with that status can give (:data:`COMMON_CODES`), and those an operation declares with
:func:`error_codes`."""

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from rest_framework import serializers
from rest_framework.permissions import AllowAny


class ErrorOutput(serializers.Serializer[Any]):
    detail = serializers.CharField(help_text="The message, translated, to show as it is.")
    code = serializers.CharField(help_text="What went wrong, for programs: each response lists the codes it may carry.")
    # SerializerMetaclass pops declared fields off the class, so this does not replace the
    # ``Serializer.errors`` property at runtime; the stubs cannot see that.
    # Typed as the recursive FieldErrors component by :func:`close_output_components`.
    errors = serializers.DictField(  # type: ignore[assignment]
        required=False,
        help_text=(
            'With code "invalid": the messages for each field that is wrong ("non_field_errors" for '
            "the body); for a list or a nested object, the same again by position or field."
        ),
    )


Codes = Mapping[int, Mapping[str, str]]

# The codes an operation answering with the status may give, whatever it does.
COMMON_CODES: Codes = {
    400: {
        "invalid": "A field (or the query string) is wrong: `errors` says which and why.",
        "parse_error": "The body is not valid JSON (or not valid for its content type).",
        "too_deep": "The JSON body nests more than 32 levels.",
    },
    401: {
        "not_authenticated": "No credentials: send `Authorization: Token <key>` (see `/api/v1/auth/token/`).",
        "authentication_failed": "The token is wrong, or its user is inactive.",
    },
    403: {
        "permission_denied": "Not allowed (a session without its CSRF token).",
        "forbidden": "You can see this object but may not do this to it.",
    },
    404: {"not_found": "It does not exist, or is outside what you may see."},
    409: {
        "stale_status": "Someone else changed it first: read it again.",
        "illegal_transition": "Its status no longer allows this.",
    },
    413: {
        "too_large": "The body is larger than 2.5 MB.",
        "too_many_fields": "The form body has more than 1,000 fields.",
    },
    415: {"unsupported_media_type": "Send `application/json` (or a form)."},
    429: {"throttled": "Too many attempts: wait the seconds in `Retry-After`."},
}

HEADERS = {
    401: {"WWW-Authenticate": ("Token", "The scheme to authenticate with.")},
    429: {"Retry-After": ("120", "Seconds to wait before trying again.")},
}

View = TypeVar("View", bound=Callable[..., Any])


def error_codes(codes: Codes) -> Callable[[View], View]:
    """Declare the error codes a view method gives beyond :data:`COMMON_CODES`, by status, each
    with what it means; the schema lists them on the operation's error responses. May be used
    more than once on a method (the declarations add up) and survives ``functools.wraps``."""

    def decorate(view: View) -> View:
        # A copy: ``functools.wraps`` shares the wrapped function's dict with its wrapper.
        declared = {status: dict(by_code) for status, by_code in view.__dict__.get("_error_codes", {}).items()}
        for status, by_code in codes.items():
            declared.setdefault(status, {}).update(by_code)
        view.__dict__["_error_codes"] = declared
        return view

    return decorate


class AutoSchema(SpectacularAutoSchema):
    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        declared = self._declared_codes()
        for status in sorted({*self._error_statuses(), *declared}):
            codes = {**COMMON_CODES.get(status, {}), **declared.get(status, {})}
            responses[str(status)] = self._error_response(status, codes, direction)
        return responses

    def _declared_codes(self) -> dict[int, dict[str, str]]:
        action = getattr(self.view, "action", None) or self.method.lower()
        method = getattr(self.view, action, None)
        return getattr(method, "_error_codes", {})

    def _error_response(self, status: int, codes: Mapping[str, str], direction: Any) -> dict[str, Any]:
        component = self.resolve_serializer(ErrorOutput, direction)
        code_schema = {"type": "string", "enum": sorted(codes)}
        response: dict[str, Any] = {
            "description": "\n".join(f"- `{code}`: {meaning}" for code, meaning in sorted(codes.items())),
            "content": {
                "application/json": {
                    "schema": {"allOf": [component.ref, {"type": "object", "properties": {"code": code_schema}}]},
                }
            },
        }
        if status in HEADERS:
            response["headers"] = {
                name: {"schema": {"type": "string", "example": example}, "description": meaning}
                for name, (example, meaning) in HEADERS[status].items()
            }
        return response

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


FIELD_ERRORS = {
    "type": "object",
    "description": "Messages by field name (or by position, in a list): a list of messages, or the same again.",
    "additionalProperties": {
        "anyOf": [
            {"type": "array", "items": {"type": "string"}},
            {"$ref": "#/components/schemas/FieldErrors"},
        ]
    },
}


def close_output_components(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """Postprocessing hook: an answer's object has exactly the fields its component lists. Every
    field of an output is always there (``null`` where it has no value), so all are required, and
    no other field may appear (``additionalProperties: false``): a client generated from the
    schema can rely on both, and the API's fuzzing fails on a field the schema does not name.
    Request bodies (``…Request``) and the error object (``errors`` only with ``invalid``) keep
    their optional fields."""
    for name, component in result.get("components", {}).get("schemas", {}).items():
        if "properties" not in component or name.endswith("Request") or name == "ErrorOutput":
            continue
        component["required"] = sorted(component["properties"])
        component["additionalProperties"] = False
    schemas = result.get("components", {}).get("schemas", {})
    if "ErrorOutput" in schemas:
        errors = schemas["ErrorOutput"]["properties"]["errors"]
        schemas["ErrorOutput"]["properties"]["errors"] = {
            "allOf": [{"$ref": "#/components/schemas/FieldErrors"}],
            "description": errors["description"],
        }
        schemas["FieldErrors"] = FIELD_ERRORS
    return result
