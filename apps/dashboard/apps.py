from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardConfig(AppConfig):
    name = "apps.dashboard"
    label = "dashboard"
    verbose_name = _("调度看板与评议")

    def ready(self) -> None:
        # Registered in every process: rows of the job queue name these tasks.
        from . import tasks  # noqa: F401
