"""The queue's health: a page for staff and a JSON view for monitoring."""

from django.urls import path

from . import views

app_name = "jobs"
urlpatterns = [
    path("s/queue/health/", views.queue_health_page, name="health"),
    path("healthz/queue", views.queue_health_json, name="health_json"),
]
