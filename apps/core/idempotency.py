"""Safe retries of the POSTs that create something: the ``Idempotency-Key`` header.

A client that sends ``Idempotency-Key: <key>`` and never hears back may send the same POST with
the same key again: within :data:`KEEP_FOR` it gets the stored answer of the first (its status
and body, with ``Idempotent-Replayed: true``) and nothing is created twice. The same key with a
different method, path or body is refused with 422 ``idempotency_key_reused``. Keys belong to
the user who sent them; a malformed key is refused with 400 ``invalid_idempotency_key``.

Only a successful (2xx) answer is kept: after a refusal the client may fix the body and retry
with the same key. Two requests with the same key at the same time cannot both create: the
key's row is inserted first, in the transaction that then runs the view, and the unique
constraint on (user, key) makes the second insert wait for the first transaction; once it
commits, the second finds the stored answer and replays it (if it rolls back, the second runs).
"""

import hashlib
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps
from typing import Any, TypeVar

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.encoders import JSONEncoder

from .errors import DomainError
from .models import IdempotencyKey
from .schema import error_codes

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
MAX_LENGTH = 255
KEEP_FOR = timedelta(hours=24)

PARAMETER = OpenApiParameter(
    name=HEADER,
    type=OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    description=(
        "Optional; 1–255 printable ASCII characters (e.g. a UUID), chosen by the client for one "
        "intended creation. Repeating the POST with the same key within 24 hours returns the "
        "first successful answer (same status and body, header `Idempotent-Replayed: true`) and "
        "creates nothing. The same key with another body or path: 422 `idempotency_key_reused`. "
        "A malformed key: 400 `invalid_idempotency_key`. Keys are per user."
    ),
)

# What a key can be refused with, added to the error responses of each operation that takes one.
ERROR_CODES = {
    400: {"invalid_idempotency_key": "The Idempotency-Key is not 1–255 printable ASCII characters."},
    422: {"idempotency_key_reused": "The Idempotency-Key was first used for another request."},
}


class KeyReused(DomainError):
    """The key was first used for another request. HTTP 422."""

    status_code = 422
    default_code = "idempotency_key_reused"


def valid_key(value: str) -> bool:
    return 0 < len(value) <= MAX_LENGTH and all(" " <= char <= "~" for char in value)


def _body(request: Request) -> Any:
    data = request.data
    if hasattr(data, "lists"):  # a QueryDict (form or multipart body)
        return {key: values for key, values in data.lists()}
    return data


def fingerprint(request: Request) -> str:
    """What the key stands for: the method, the path and the body (keys sorted)."""
    body = json.dumps(_body(request), cls=JSONEncoder, sort_keys=True, ensure_ascii=False)
    digest = hashlib.sha256()
    for part in (request.method or "", request.path, body):
        digest.update(part.encode())
        digest.update(b"\0")
    return digest.hexdigest()


def _replay(stored: IdempotencyKey) -> Response:
    response = Response(json.loads(stored.response_body), status=stored.status_code)
    response[REPLAYED_HEADER] = "true"
    return response


View = TypeVar("View", bound=Callable[..., Response])


def idempotent(view: View) -> View:
    """Decorate a DRF view method that creates something (see the module docstring)."""

    @error_codes(ERROR_CODES)
    @wraps(view)
    def wrapper(self: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        key = request.headers.get(HEADER)
        if key is None or not request.user.is_authenticated:
            return view(self, request, *args, **kwargs)
        if not valid_key(key):
            raise DomainError(
                _("Idempotency-Key 须为1到%(n)d个可打印的ASCII字符。") % {"n": MAX_LENGTH},
                code="invalid_idempotency_key",
            )
        user_id = request.user.pk
        print_ = fingerprint(request)
        with transaction.atomic():
            IdempotencyKey.objects.filter(user_id=user_id, key=key, created_at__lt=timezone.now() - KEEP_FOR).delete()
            try:
                with transaction.atomic():
                    # Waits here while a transaction holding the same key is still running.
                    IdempotencyKey.objects.create(
                        user_id=user_id, key=key, fingerprint=print_, status_code=0, response_body=""
                    )
            except IntegrityError:
                stored = IdempotencyKey.objects.get(user_id=user_id, key=key)
                if stored.fingerprint != print_:
                    raise KeyReused(
                        _("这个 Idempotency-Key 已用于另一个请求，请换一个新的。"), code="idempotency_key_reused"
                    ) from None
                return _replay(stored)
            response = view(self, request, *args, **kwargs)
            if not 200 <= response.status_code < 300:
                transaction.set_rollback(True)  # forget the key: the client may retry with it
                return response
            IdempotencyKey.objects.filter(user_id=user_id, key=key).update(
                status_code=response.status_code,
                response_body=json.dumps(response.data, cls=JSONEncoder, ensure_ascii=False),
            )
        return response

    return wrapper  # type: ignore[return-value]


def idempotency_keys_purge(*, now: datetime | None = None) -> int:
    """The beat sweep: forget keys older than :data:`KEEP_FOR`. Returns how many went."""
    cutoff = (now or timezone.now()) - KEEP_FOR
    deleted, _by_model = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted
