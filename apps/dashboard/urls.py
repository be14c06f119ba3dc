from django.urls import path

from . import views

app_name = "dashboard"
urlpatterns = [
    path("s/board/", views.board_page, name="board"),
    path("s/board/live/", views.board_live, name="board_live"),
    path("s/kpi/", views.kpi_page, name="kpi"),
    path("s/kpi/export.xlsx", views.kpi_export, name="kpi_export"),
    path("s/scorecards/", views.scorecards_page, name="scorecards"),
    path("s/reports/", views.reports_page, name="reports"),
    path("s/reports/<int:pk>/", views.report_status, name="report_status"),
    path("s/reports/<int:pk>/download/", views.report_download, name="report_download"),
]
