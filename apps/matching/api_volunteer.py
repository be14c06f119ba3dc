"""Volunteer API of the matching queue: open tasks (抢单) and team dispatch."""

from django.urls import URLPattern

volunteer_api_paths: list[URLPattern] = []
