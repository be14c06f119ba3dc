from django.urls import path

from . import views

app_name = "ratings"
urlpatterns = [
    path("s/followups/", views.follow_up_list, name="follow_ups"),
    path("s/followups/sample/", views.follow_up_sample, name="follow_up_sample"),
    path("s/followups/<int:pk>/", views.follow_up_detail, name="follow_up_detail"),
]
