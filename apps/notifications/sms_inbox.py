"""The development SMS backend that puts each message in the in-app inbox of every administrator.

Loaded by name from ``settings.SMS_BACKENDS`` (accounts, which sends, sits below notifications
and may not import it). For development only: the full number is shown, so that whoever runs
the platform on a laptop can read the code sent to a number."""

from collections.abc import Mapping

from django.contrib.auth import get_user_model

from .models import Kind
from .services import notify


class AdminInboxSmsBackend:
    def send(self, phone: str, text: str, *, params: Mapping[str, str]) -> None:
        User = get_user_model()
        admins = User.objects.filter(is_superuser=True, is_active=True).values_list("id", flat=True)
        notify(recipient_ids=list(admins), kind=Kind.SMS_DEVELOPMENT, params={"phone": phone, "text": text})
