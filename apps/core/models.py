"""The shape every event log shares (requests and offers today; projects, wishes and sign-up
reviews next): who moved it, why, and when. Each log adds its subject and its statuses."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .reasons import Reason


class StatusEvent(models.Model):
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("操作人"),
    )
    # Why: as typed by a person, or a system reason's key and parameters (apps.core.reasons).
    reason = models.CharField(_("说明"), max_length=500, blank=True)
    reason_code = models.CharField(max_length=40, blank=True, editable=False)
    reason_params = models.JSONField(default=dict, blank=True, editable=False)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["created_at", "id"]

    @property
    def display_reason(self) -> str:
        """In the reader's language for a system reason; as typed for a person's."""
        return str(Reason.of(self))


class IdempotencyKey(models.Model):
    """A POST that created something, kept under the ``Idempotency-Key`` its sender gave, so a
    repeat with the same key answers the stored response instead of creating again (see
    :mod:`apps.core.idempotency`). Keys are scoped per user; old ones are purged."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("用户")
    )
    key = models.CharField(_("幂等键"), max_length=255)
    # What the key was first used for: a digest of the method, the path and the body.
    fingerprint = models.CharField(max_length=64, editable=False)
    status_code = models.PositiveSmallIntegerField(editable=False)
    response_body = models.TextField(editable=False)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("幂等键")
        verbose_name_plural = pgettext_lazy("plural", "幂等键")
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_key_unique_per_user")]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.key}"
