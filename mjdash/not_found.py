"""The dashboard's own 404 page in every mode.

Django answers an unknown address or a view's Http404 with its own page only
when DEBUG is off; under DEBUG (`make run`) it shows its technical page: in
English whatever the visitor's language, with the URL patterns, 980 px wide on
a phone. This middleware answers templates/404.html in both modes.
"""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import Resolver404, resolve


class NotFoundMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            resolve(request.path_info)
        except Resolver404:
            return page_not_found(request)
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, Http404):
            return page_not_found(request, exception)
        return None


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """templates/404.html, with the view's own words when it gave some (never a resolver's)."""
    said = exception.args[0] if exception is not None and exception.args else ""
    return render(request, "404.html", {"exception": said if isinstance(said, str) else ""}, status=404)
