from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

# The admin speaks as the platform, in the administrator's language (Django's own "Django 管理" otherwise).
admin.site.site_header = _("涿州i志愿 管理后台")
admin.site.site_title = _("涿州i志愿 管理后台")
admin.site.index_title = _("管理首页")

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/", include("zhuozhou_civic.api_urls")),
    path("", include("apps.accounts.urls")),
    path("", include("apps.core.urls")),
    path("", include("apps.workflow.urls")),
    path("", include("apps.volunteers.urls")),
    path("", include("apps.teams.urls")),
    path("", include("apps.roster.urls")),
    path("", include("apps.ratings.urls")),
    path("", include("apps.matching.urls")),
    path("", include("apps.dashboard.urls")),
    path("", include("apps.jobs.urls")),
    path("notifications/", include("apps.notifications.urls")),
]

handler400 = "apps.core.api.bad_request"
handler404 = "apps.core.api.page_not_found"
