"""Volunteer pages of the matching queue: open tasks (抢单) and team dispatch by a leader."""

from django.urls import URLPattern

volunteer_paths: list[URLPattern] = []
