from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MatchingConfig(AppConfig):
    name = "apps.matching"
    label = "matching"
    verbose_name = _("智能匹配与派单队列")

    def ready(self) -> None:
        # Registered in every process: rows of the job queue name these tasks.
        from . import tasks  # noqa: F401
