from pathlib import Path

from django.apps import AppConfig
from django.conf import settings


class CoreConfig(AppConfig):
    name = "apps.core"
    label = "core"

    def ready(self) -> None:
        # The embedded broker keeps its queue in folders that must exist before anyone publishes;
        # WhiteNoise expects STATIC_ROOT to exist even before the first collectstatic.
        for directory in [*settings.BROKER_DIRECTORIES, settings.STATIC_ROOT]:
            Path(directory).mkdir(parents=True, exist_ok=True)
