"""Staff pages of the matching queue: ranked candidates, dispatch mode, the queue at work."""

from django.urls import URLPattern

staff_paths: list[URLPattern] = []
