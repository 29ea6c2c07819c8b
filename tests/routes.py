"""Every URL the project serves, each with a path that reaches its view: for sweeps.

Walks django.urls.get_resolver() recursively (admin included) and fills each
pattern's parameters with sample values, keeping the first filling that
resolves back to the pattern's own view.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.urls.exceptions import Resolver404
from django.utils.regex_helper import normalize

TASK_ID = "1743326750223591"
# A path converter's sample; a regex group tries each candidate in turn.
CONVERTER_SAMPLES = {"task_id": TASK_ID, "int": "1", "str": "x", "path": "x", "slug": "x"}
REGEX_CANDIDATES = ("auth", "tasks_app", "axes", "1", "x", TASK_ID)
_CONVERTER = re.compile(r"<(?:(?P<kind>[^>:]+):)?(?P<name>[^>]+)>")


# Routes that start paid jobs (or show their forms): only people who may press
# may use them; everyone else gets 403 (test_sweeps.py).
PRESS_ONLY = {
    "task_action",
    "task_modal",
    "task_cancel",
    "create",
    "create_params",
    "create_status",
    "create_again",
}


@dataclass(frozen=True)
class Route:
    name: str
    path: str
    view: object


def all_routes() -> list[Route]:
    routes, unreachable = [], []
    for pieces, pattern in _leaves(get_resolver().url_patterns, ()):
        path = _sample_path([*pieces, pattern.pattern], pattern.callback)
        namespace = ":".join(piece.namespace for piece in pieces if piece.namespace)
        name = ":".join(filter(None, [namespace, pattern.name])) if pattern.name else str(pattern.pattern)
        if path is SHADOWED:
            continue  # an earlier pattern answers the very same path: nothing can request this one
        if path is None:
            unreachable.append(name)
        else:
            routes.append(Route(name, path, pattern.callback))
    assert not unreachable, f"no sample path reaches {unreachable}"
    return routes


def _leaves(patterns, pieces):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _leaves(pattern.url_patterns, (*pieces, pattern))
        elif isinstance(pattern, URLPattern):
            yield pieces, pattern


SHADOWED = "shadowed"


def _sample_path(pieces, callback) -> str | None:
    options = [_fillings(piece.pattern if isinstance(piece, URLResolver) else piece) for piece in pieces]
    routes = [
        getattr(piece.pattern if isinstance(piece, URLResolver) else piece, "_route", None)
        for piece in pieces
    ]
    for combination in itertools.product(*options):
        path = "/" + "".join(combination)
        try:
            match = resolve(path)
        except Resolver404:
            continue
        if match.func is callback or getattr(match.func, "view_class", None) is _view_class(callback):
            return path
        if None not in routes and match.route == "".join(routes):
            return SHADOWED  # the same route, registered twice (django-rq's admin dashboard)
    return None


def _view_class(callback):
    return getattr(callback, "view_class", object())


def _fillings(pattern) -> list[str]:
    """The strings this one piece (a route or a regex) may stand for, samples filled in."""
    route = getattr(pattern, "_route", None)
    if route is not None:
        return [_CONVERTER.sub(lambda m: CONVERTER_SAMPLES.get(m["kind"] or "str", "x"), route)]
    fillings = []
    for template, params in normalize(pattern._regex):
        for values in itertools.product(REGEX_CANDIDATES, repeat=len(params)):
            fillings.append(template % dict(zip(params, values, strict=True)))
    return list(dict.fromkeys(fillings))
