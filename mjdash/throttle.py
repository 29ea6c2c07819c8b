"""Login throttling (django-axes): which address a login comes from, and a limit per address.

Behind a reverse proxy every request's REMOTE_ADDR is the proxy's, so ten
wrong passwords would lock a user out for everyone. The client's address is
read from X-Forwarded-For only when REMOTE_ADDR is a proxy named in
MJ_TRUSTED_PROXIES, and then from the right: each trusted proxy appends the
address it saw, so the rightmost address that is not a trusted proxy is the
client; anything left of it was written by the client and may be forged.

Failures are counted per username and address (MJ_LOGIN_FAILURE_LIMIT) and
per address across usernames (MJ_LOGIN_ADDRESS_FAILURE_LIMIT), so spraying
passwords over many usernames from one address is throttled too.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_failure_limit
from axes.models import AccessAttempt
from django.conf import settings
from django.db.models import Sum

MAX_HOPS = 20  # of X-Forwarded-For read from the right; no real chain of proxies is longer


def client_address(request) -> str:
    """The address a request comes from (AXES_CLIENT_IP_CALLABLE)."""
    remote = request.META.get("REMOTE_ADDR", "")
    if not _trusted(_address(remote)):
        return remote  # a direct client: its X-Forwarded-For is its own word, ignored
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    for hop in reversed(forwarded.split(",")[-MAX_HOPS:]):
        address = _address(hop)
        if address is None:
            break  # not an address: the nearest trusted proxy is all we know
        remote = str(address)
        if not _trusted(address):
            return remote
    return remote


class LoginThrottle(AxesDatabaseHandler):
    """django-axes' database handler, also counting an address's failures over every username."""

    def get_failures(self, request, credentials: dict | None = None) -> int:
        failures = super().get_failures(request, credentials)  # this username from this address
        threshold = get_cool_off_threshold(request)
        recent = AccessAttempt.objects.filter(ip_address=request.axes_ip_address, attempt_time__gte=threshold)
        from_address = recent.aggregate(total=Sum("failures_since_start"))["total"] or 0
        if from_address >= settings.MJ_LOGIN_ADDRESS_FAILURE_LIMIT:
            request.login_address_locked = True  # the lockout page says why
            return max(failures, get_failure_limit(request, credentials))
        return failures


def _address(text: str):
    """An IP address from a header entry ("203.0.113.7", "[2001:db8::1]:443", "203.0.113.7:5123"), or None."""
    text = text.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _trusted(address) -> bool:
    return address is not None and any(
        address in network for network in _networks(tuple(settings.MJ_TRUSTED_PROXIES))
    )


@lru_cache(maxsize=8)
def _networks(texts: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(text) for text in texts)
