"""What every view module shares: the typed request and the safe way back."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django_htmx.http import HttpResponseClientRedirect
from django_htmx.middleware import HtmxDetails


class HtmxHttpRequest(HttpRequest):
    """A request after django-htmx's middleware (as in django-htmx's own example)."""

    htmx: HtmxDetails


def safe_next(request: HttpRequest, candidate: str, fallback: str) -> str:
    """`candidate` when it stays on this site, else `fallback`: no `next=` leaves the site."""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return fallback


def back(request: HttpRequest, task_id: str) -> str:
    """Where a plain form post returns: the page it came from (Referer) when on this
    site, else the task's own page. Cards carry no `next` field (a page's whole
    address, once per card, was most of a large page's weight)."""
    return safe_next(request, request.headers.get("Referer", ""), reverse("task_detail", args=[task_id]))


def go(request: HtmxHttpRequest, url: str) -> HttpResponseRedirect | HttpResponseClientRedirect:
    """Send the whole page to `url`: an htmx request by HX-Redirect, a plain one by 302."""
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)
