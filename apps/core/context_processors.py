from typing import Any

from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, Any]:
    return {"elder_mode": getattr(request, "elder_mode", False)}
