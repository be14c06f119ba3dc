from django.urls import path

from . import views

app_name = "teams"
urlpatterns = [
    path("teams/", views.my_teams, name="my_teams"),
    path("teams/<int:pk>/", views.team_detail, name="team_detail"),
    path("teams/<int:pk>/apply/", views.team_apply, name="team_apply"),
    path("teams/<int:pk>/invite/", views.team_invite, name="team_invite"),
    path("teams/memberships/<int:pk>/<slug:verb>/", views.membership_action, name="membership_action"),
    path("s/teams/", views.staff_teams, name="staff_teams"),
]
