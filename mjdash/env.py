"""Readers for settings taken from the environment.

Each reader takes one variable and returns a typed value. Unset or blank
means the default. A value that does not parse, or makes no sense (a
negative timeout, a batch of zero), stops start-up with ImproperlyConfigured
naming the variable, what was expected and what was given.
"""

import ipaddress
import logging
import math
import os
import re
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}

# Units of a rate such as "20/min", in seconds; plurals ("hours", "mins") too.
_RATE_UNITS = {
    "s": 1,
    "sec": 1,
    "second": 1,
    "m": 60,
    "min": 60,
    "minute": 60,
    "h": 3600,
    "hr": 3600,
    "hour": 3600,
    "d": 86400,
    "day": 86400,
}
RATE_UNITS = _RATE_UNITS | {f"{unit}s": seconds for unit, seconds in _RATE_UNITS.items() if len(unit) > 1}
_RATE = re.compile(r"^\s*(?P<count>[+-]?\d+)\s*/\s*(?P<unit>[A-Za-z]+)\s*$")


def _raw(name: str) -> str | None:
    """The variable's text, or None when it is unset or blank."""
    value = os.environ.get(name)
    if value is None or not value.strip():
        return None
    return value


def _refuse(name: str, expected: str, value: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(f"{name} must be {expected}, got {value.strip()!r}")


def env(name: str, default: str = "") -> str:
    """The text as given (not stripped: it may be a secret), or `default` when unset or blank."""
    value = _raw(name)
    return default if value is None else value


def envbool(name: str, default: bool = False) -> bool:
    """1/0, true/false, yes/no, on/off (any case); anything else is refused."""
    value = _raw(name)
    if value is None:
        return default
    word = value.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise _refuse(name, "one of 1/0, true/false, yes/no, on/off", value)


def _check_range(name: str, number, value: str, minimum, above, maximum=None):
    if minimum is not None and number < minimum:
        raise _refuse(name, f"at least {minimum}", value)
    if maximum is not None and number > maximum:
        raise _refuse(name, f"at most {maximum}", value)
    if above is not None and number <= above:
        raise _refuse(name, f"greater than {above}", value)
    return number


def envint(
    name: str,
    default: int,
    *,
    minimum: int | None = None,
    above: int | None = None,
    maximum: int | None = None,
) -> int:
    """A whole number, at least `minimum` / greater than `above` / at most `maximum` when given."""
    value = _raw(name)
    if value is None:
        return default
    try:
        number = int(value.strip())
    except ValueError:
        raise _refuse(name, "an integer", value) from None
    return _check_range(name, number, value, minimum, above, maximum)


def envfloat(name: str, default: float, *, minimum: float | None = None, above: float | None = None) -> float:
    """A finite number, at least `minimum` / greater than `above` when given."""
    value = _raw(name)
    if value is None:
        return default
    try:
        number = float(value.strip())
    except ValueError:
        raise _refuse(name, "a number", value) from None
    if not math.isfinite(number):
        raise _refuse(name, "a finite number", value)
    return _check_range(name, number, value, minimum, above)


def envlist(name: str, default: str = "") -> list[str]:
    """Comma-separated items, blanks dropped; `default` (also comma separated) when unset or blank."""
    return [part.strip() for part in env(name, default).split(",") if part.strip()]


def envchoice(name: str, default: str, choices: list[str] | tuple[str, ...]) -> str:
    """One of `choices` (matched ignoring case, returned as spelled in `choices`)."""
    value = _raw(name)
    if value is None:
        return default
    by_key = {choice.lower(): choice for choice in choices}
    try:
        return by_key[value.strip().lower()]
    except KeyError:
        raise _refuse(name, "one of " + ", ".join(choices), value) from None


def envloglevel(name: str, default: str) -> str:
    """A logging level name (DEBUG, INFO, WARNING, ERROR, CRITICAL; any case)."""
    mapping = logging.getLevelNamesMapping()
    levels = sorted((level for level in mapping if level != "NOTSET"), key=mapping.get)
    return envchoice(name, default, levels)


def envurl(name: str, default: str = "", *, schemes: tuple[str, ...] = ("http", "https")) -> str:
    """An absolute URL with one of `schemes` and a host, without a trailing slash ('' when unset)."""
    value = _raw(name)
    if value is None:
        return default
    url = value.strip().rstrip("/")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        parts = None
    if parts is None or parts.scheme.lower() not in schemes or not parts.hostname:
        example = "https://host.example.com" if "https" in schemes else f"{schemes[0]}://host"
        kinds = "an http(s)" if set(schemes) == {"http", "https"} else "a " + "/".join(schemes)
        raise _refuse(name, f"{kinds} URL such as {example}", value)
    return url


def envmatch(name: str, pattern: str, expected: str) -> str:
    """Text (stripped) that matches the regular expression `pattern` whole ('' when unset);
    `expected` says what it must be, e.g. "an S3 bucket name such as mjdash-media"."""
    value = _raw(name)
    if value is None:
        return ""
    if not re.fullmatch(pattern, value.strip()):
        raise _refuse(name, expected, value)
    return value.strip()


def envnetworks(name: str, *, strict: bool = False) -> list[str]:
    """Comma-separated IP networks in CIDR form (e.g. 10.20.0.0/16) or single
    addresses, kept as text. Strict refuses host bits in a network
    (10.0.0.5/24: the address or its network?)."""
    networks = envlist(name)
    for network in networks:
        try:
            ipaddress.ip_network(network, strict=strict)
        except ValueError:
            raise _refuse(
                name, "comma-separated addresses or networks such as 10.20.0.0/16", network
            ) from None
    return networks


def parse_rate(name: str, text: str) -> tuple[int, int]:
    """`(count, period_seconds)` of a rate such as "20/min", "5/sec", "100/day"."""
    match = _RATE.match(text)
    unit = match["unit"].lower() if match else ""
    if not match or unit not in RATE_UNITS:
        raise _refuse(name, "'<count>/<unit>' with unit s, min, hour or day (e.g. 20/min)", text)
    count = int(match["count"])
    if count < 1:
        raise ImproperlyConfigured(f"{name} must allow at least 1 per {match['unit']}, got {text.strip()!r}")
    return count, RATE_UNITS[unit]


def envrate(name: str, default: str) -> tuple[str, tuple[int, int]]:
    """The variable's "<count>/<unit>" as given (stripped) and as `(count, period_seconds)`."""
    text = env(name, default).strip()
    return text, parse_rate(name, text)


def missing_partner(**values: str) -> str:
    """For settings that only work together: "A is set without B", or "" when all or none are set."""
    given = [name for name, value in values.items() if value]
    missing = [name for name, value in values.items() if not value]
    if not given or not missing:
        return ""
    return f"{' and '.join(given)} {'is' if len(given) == 1 else 'are'} set without {' and '.join(missing)}"
