"""The site's URLs plus one view that fails, to see the 500 page."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from zhuozhou_civic.urls import handler404
from zhuozhou_civic.urls import urlpatterns as site_urlpatterns


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("a page that fails")


urlpatterns = [path("boom/", boom), *site_urlpatterns]

__all__ = ["handler404", "urlpatterns"]
