from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RosterConfig(AppConfig):
    name = "apps.roster"
    label = "roster"
    verbose_name = _("志愿者名册导入导出")
