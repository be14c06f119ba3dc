from django.urls import path

from . import views

app_name = "volunteers"
urlpatterns = [
    path("v/signup/", views.signup, name="signup"),
    path("v/profile/", views.profile, name="profile"),
    path("v/profile/pause/", views.pause, name="pause"),
    path("v/profile/resume/", views.resume, name="resume"),
    path("v/profile/leave/", views.leave, name="leave"),
    path("s/volunteers/", views.staff_list, name="staff_list"),
    path("s/volunteers/<int:pk>/", views.staff_detail, name="staff_detail"),
    path("s/volunteers/<int:pk>/approve/", views.staff_approve, name="staff_approve"),
    path("s/volunteers/<int:pk>/reject/", views.staff_reject, name="staff_reject"),
    path("s/volunteers/<int:pk>/reveal-id/", views.staff_reveal, name="staff_reveal"),
]
