"""Staff API of the matching queue: ranked candidates with reasons, dispatch mode."""

from django.urls import URLPattern

staff_api_paths: list[URLPattern] = []
