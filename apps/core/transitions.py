"""The one transition machine behind every status field (requests, offers, and the projects,
wishes and sign-up reviews to come).

A machine knows its table of allowed moves and its event model. Every move is a conditional
UPDATE on id *and* expected status, so a lost race changes nothing and raises
:class:`~apps.core.errors.Conflict` (HTTP 409); every row that moves gets exactly one event
row (from, to, actor, reason, time). Moves must run inside a transaction: the UPDATE and its
event commit together or not at all.
"""

from collections.abc import Iterable, Mapping
from typing import Any, Generic, TypeVar

from django.db import models, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.functional import Promise

from .errors import Conflict
from .reasons import NO_REASON, Reason

M = TypeVar("M", bound=models.Model)


class StateMachine(Generic[M]):
    """Moves of ``model.status`` allowed by ``table``, recorded in ``event_model``.

    ``event_model`` has a foreign key named ``subject`` to ``model`` (its name is given by
    ``event_fk``), ``from_status``, ``to_status``, ``actor`` and the reason columns
    (``reason``, ``reason_code``, ``reason_params``)."""

    def __init__(
        self,
        *,
        model: type[M],
        table: Mapping[str, frozenset[str]],
        labels: type[models.TextChoices],
        event_model: type[models.Model],
        event_fk: str,
        illegal_message: Promise,
        stale_message: Promise,
        changed_at_field: str | None = None,
    ) -> None:
        self.model = model
        self.table = table
        self.labels = labels
        self.event_model = event_model
        self.event_fk = event_fk
        self.illegal_message = illegal_message
        self.stale_message = stale_message
        self.changed_at_field = changed_at_field

    def allows(self, from_status: str, to_status: str) -> bool:
        return to_status in self.table.get(from_status, frozenset())

    def check(self, from_status: str, to_status: str) -> None:
        """Raise Conflict ``illegal_transition`` if the table has no such move."""
        if not self.allows(from_status, to_status):
            message = self.illegal_message % {
                "from": self.labels(from_status).label,
                "to": self.labels(to_status).label,
            }
            raise Conflict(str(message), code="illegal_transition")

    def _require_transaction(self) -> None:
        if not transaction.get_connection().in_atomic_block:
            raise RuntimeError(f"{self.model.__name__} status moves must run inside transaction.atomic()")

    def _event(self, *, subject_id: int, from_status: str, to_status: str, actor: Any, reason: Reason) -> models.Model:
        return self.event_model(
            **{f"{self.event_fk}_id": subject_id},
            from_status=from_status,
            to_status=to_status,
            actor=actor,
            **reason.as_fields(),
        )

    def move(
        self,
        obj: M,
        *,
        to: str,
        actor: Any,
        reason: Reason = NO_REASON,
        expected: str | None = None,
        **updates: Any,
    ) -> M:
        """Move ``obj`` from ``expected`` (default: the status it holds) to ``to``, apply
        ``updates`` in the same UPDATE, and write one event. Raises Conflict if the table has
        no such move (``illegal_transition``) or the row has moved on (``stale_status``)."""
        self._require_transaction()
        from_status: str = expected or obj.status  # type: ignore[attr-defined]
        self.check(from_status, to)
        if self.changed_at_field is not None:
            updates.setdefault(self.changed_at_field, timezone.now())
        changed = self.model._default_manager.filter(pk=obj.pk, status=from_status).update(status=to, **updates)
        if changed == 0:
            raise Conflict(str(self.stale_message), code="stale_status")
        self._event(subject_id=obj.pk, from_status=from_status, to_status=to, actor=actor, reason=reason).save()
        obj.status = to  # type: ignore[attr-defined]
        for field, value in updates.items():
            if not hasattr(value, "resolve_expression"):
                setattr(obj, field, value)
        return obj

    def move_many(
        self,
        queryset: QuerySet[M],
        *,
        from_status: str,
        to: str,
        actor: Any,
        reason: Reason = NO_REASON,
        **updates: Any,
    ) -> list[int]:
        """Move every row of ``queryset`` still in ``from_status`` to ``to``; one event per
        row moved, written in one bulk insert. Returns the ids moved (rows that had moved on
        are left alone). The rows are locked first, so the ids returned are exactly the rows
        the UPDATE changed."""
        self._require_transaction()
        self.check(from_status, to)
        ids = sorted(queryset.filter(status=from_status).select_for_update(of=("self",)).values_list("pk", flat=True))
        if not ids:
            return []
        if self.changed_at_field is not None:
            updates.setdefault(self.changed_at_field, timezone.now())
        self.model._default_manager.filter(pk__in=ids, status=from_status).update(status=to, **updates)
        self.event_model._default_manager.bulk_create(
            [
                self._event(subject_id=pk, from_status=from_status, to_status=to, actor=actor, reason=reason)
                for pk in ids
            ]
        )
        return ids

    def record_created(self, objs: Iterable[M], *, actor: Any, reason: Reason = NO_REASON) -> None:
        """The first event of new rows: from nothing to the status they were created in."""
        self._require_transaction()
        self.event_model._default_manager.bulk_create(
            [
                self._event(subject_id=obj.pk, from_status="", to_status=obj.status, actor=actor, reason=reason)  # type: ignore[attr-defined]
                for obj in objs
            ]
        )
