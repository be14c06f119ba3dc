from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WorkflowConfig(AppConfig):
    """The front of the core loop: the pages and API that carry one request through
    submission, review, dispatch, service and rating. It composes the domain apps through
    their services and selectors and owns no models."""

    name = "apps.workflow"
    label = "workflow"
    verbose_name = _("服务流程")
