from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RosterConfig(AppConfig):
    name = "apps.roster"
    label = "roster"
    verbose_name = _("志愿者名册导入导出")

    def ready(self) -> None:
        # Register the tasks in every process, not only in the worker (where Celery's
        # autodiscovery imports them): the web process publishes the import by task name, and
        # Celery looks the name up in this process's registry.
        from . import tasks  # noqa: F401
