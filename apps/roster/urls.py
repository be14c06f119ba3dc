from django.urls import path

from . import views

app_name = "roster"
urlpatterns = [
    path("s/roster/", views.roster_index, name="index"),
    path("s/roster/template.xlsx", views.roster_template, name="template"),
    path("s/roster/export/", views.roster_export, name="export"),
    path("s/roster/teams/<int:team_id>/export/", views.roster_team_export, name="team_export"),
    path("s/roster/<int:pk>/", views.roster_job, name="job"),
    path("s/roster/<int:pk>/progress/", views.roster_job_progress, name="job_progress"),
    path("s/roster/<int:pk>/errors.xlsx", views.roster_job_errors, name="job_errors"),
]
