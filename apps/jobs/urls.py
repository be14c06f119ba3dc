"""The queue's health: a page for staff and a JSON view for monitoring."""

from django.urls import URLPattern

app_name = "jobs"
urlpatterns: list[URLPattern] = []
