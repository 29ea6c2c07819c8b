"""Routing of one request: auth, latency, faults, then the proxy's answer as bytes.

Transport-free (the HTTP handler only moves bytes), so the order in which a real
relay applies these (rate limits and gateways before the app) lives in one place.
"""

from __future__ import annotations

import json
import random
import re
import zlib
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from . import create, hostile, jobs
from .images import signature_ok
from .tasks import SimTask, seed_of

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from .core import Simulator
    from .state import Fault

# The body: bytes, or chunks sent apart (a host that trickles) under a Content-Length header.
Reply = tuple[int, dict[str, str], "bytes | Iterator[bytes]"]

_PREFIX = r"(?:/mj-[\w-]+)?/mj"
ROUTES = (
    ("POST", re.compile(_PREFIX + r"/task/list-by-(?:condition|ids)/?"), "list"),
    ("GET", re.compile(_PREFIX + r"/task/(?P<id>[^/]+)/fetch/?"), "fetch"),
    ("POST", re.compile(_PREFIX + r"/submit/imagine/?"), "imagine"),
    ("POST", re.compile(_PREFIX + r"/submit/blend/?"), "blend"),
    ("POST", re.compile(_PREFIX + r"/submit/describe/?"), "describe"),
    ("POST", re.compile(_PREFIX + r"/submit/shorten/?"), "shorten"),
    ("POST", re.compile(_PREFIX + r"/submit/action/?"), "action"),
    ("POST", re.compile(_PREFIX + r"/submit/modal/?"), "modal"),
    ("POST", re.compile(_PREFIX + r"/task/(?P<id>[^/]+)/cancel/?"), "cancel"),
    ("GET", re.compile(r"/attachments/(?P<id>[^/]+)/(?P<name>[^/]+)\.png"), "image"),
)
NAME = re.compile(
    r"(?P<hash>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
    r"(?:_(?P<suffix>[1-4]|p\d+))?$"
)
GATEWAY_PAGE = (
    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)
CHALLENGE_PAGE = (
    '<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title></head>'
    "<body><noscript>Enable JavaScript and cookies to continue</noscript></body></html>"
)
_INVALID = object()
CREATE_ROUTES = frozenset({"imagine", "blend", "describe", "shorten"})


def handle(
    sim: Simulator, method: str, path: str, query: Mapping, headers: Mapping, raw: bytes
) -> Reply | None:
    """The reply to one request, or None to drop the connection without answering."""
    route, params = _match(method, path)
    if route is None:
        return json_reply({"error": f"no route for {method} {path}"}, 404)
    sim._count(route)
    body = _parse(raw) if method == "POST" else None
    if route == "list" and isinstance(body, dict) and isinstance(body.get("ids"), list):
        sim._record_batch([str(i) for i in body["ids"]])
    if route != "image":
        sim._record_auth(route, headers)
        sim._pause(sim.latency)
        if not _authorised(sim, headers):
            return json_reply({"error": "invalid api key"}, 401)
    fault = sim.faults.take(route)
    if fault is not None and fault.kind not in ("partial", "duplicate"):
        return _fault_reply(sim, fault)
    if route == "image":
        return _image(sim, params["id"], params["name"], path, query)
    if route == "fetch":
        return json_reply(sim._payload(params["id"]))
    if route == "cancel":
        return json_reply(jobs.cancel(sim, params["id"]))
    if not isinstance(body, dict):
        return json_reply(jobs.envelope(4, "request body must be a JSON object"), 400)
    if route == "list":
        return _list(sim, body, fault.kind if fault else None)
    sim._record_received(route, body)
    answer = getattr(create if route in CREATE_ROUTES else jobs, route)(sim, body)
    for hook in list(sim.after_submit):
        hook(route, body)
    return json_reply(answer)


def json_reply(obj: Any, status: int = 200, **headers: str) -> Reply:
    data = json.dumps(obj, ensure_ascii=False).encode()
    return status, {"Content-Type": "application/json; charset=utf-8", **headers}, data


def text_reply(text: str, status: int, content_type: str = "text/plain") -> Reply:
    return status, {"Content-Type": f"{content_type}; charset=utf-8"}, text.encode()


def _match(method: str, path: str) -> tuple[str | None, dict[str, str]]:
    for verb, pattern, route in ROUTES:
        found = pattern.fullmatch(path)
        if found and verb == method:
            return route, {k: unquote(v) for k, v in found.groupdict().items()}
    return None, {}


def _parse(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return _INVALID


def _authorised(sim: Simulator, headers: Mapping) -> bool:
    bearer = headers.get("Authorization") or ""
    scheme, _, token = bearer.partition(" ")
    if scheme.lower() == "bearer" and token.strip() == sim.api_key:
        return True
    return (headers.get("mj-api-secret") or "").strip() == sim.api_key


def _list(sim: Simulator, body: dict, fault: str | None) -> Reply:
    ids = body.get("ids")
    if not isinstance(ids, list):
        return json_reply(jobs.envelope(4, "ids must be a list of task ids"), 400)
    ids = list(dict.fromkeys(str(i) for i in ids))
    tasks = [p for p in (sim._payload(i) for i in ids) if p is not None]
    random.Random(zlib.crc32("|".join(ids).encode())).shuffle(tasks)
    if fault == "partial":
        tasks = tasks[1::2]
    elif fault == "duplicate":
        tasks = [t for t in tasks for _ in (0, 1)]
    return json_reply(tasks)


def _fault_reply(sim: Simulator, fault: Fault) -> Reply | None:
    kind = fault.kind
    if kind == "timeout":
        sim._pause(sim.timeout_sleep)
        return None
    if kind == "reset":  # the request was read, then the connection dropped: no answer at all
        return None
    if kind == "echo_key":  # a careless relay's error page quotes the credential it was sent
        return text_reply(f"upstream error: token Bearer {sim.api_key} rejected by the pool", 400)
    if kind == "401":
        return json_reply({"error": "invalid api key"}, 401)
    if kind == "403":
        return text_reply("Forbidden: insufficient quota for this key", 403)
    if kind == "429":
        extra = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
        return json_reply({"error": "rate limit exceeded, slow down"}, 429, **extra)
    if kind == "500":
        return text_reply("Internal Server Error", 500)
    if kind == "502html":
        return text_reply(GATEWAY_PAGE, 502, "text/html")
    if kind == "not_json":
        return text_reply(CHALLENGE_PAGE, 200, "text/html")
    return json_reply(jobs.envelope(4, "system busy: request rejected by upstream"))


def _image(sim: Simulator, task_id: str, name: str, path: str, query: Mapping) -> Reply:
    sim._count_image(task_id)
    gone = text_reply("This content is no longer available.", 404)
    ex, is_, hm = (query.get(k, [""])[0] for k in ("ex", "is", "hm"))
    if not (ex and hm and signature_ok(sim._secret, path, ex, is_, hm)):
        return gone
    if sim.clock.now() >= int(ex, 16):
        return gone
    found = NAME.search(name)
    if found is None:
        return gone
    task = sim.stored(task_id)
    seed, quad, grid = seed_of(task_id), None, True
    if isinstance(task, SimTask):
        (seed, quad), grid = task.look, task.is_grid
    if isinstance(task, SimTask) and task.hostile:
        return hostile.reply(sim, task.hostile, seed)
    suffix = found.group("suffix") or ""
    if suffix.startswith("p"):
        kind = f"preview{suffix[1:]}"  # each stage its own picture, as a relay's are
    elif suffix:
        kind, quad = "single", int(suffix)
    else:
        kind = "grid" if grid else "single"
    data = sim.images.png(seed, quad, kind)
    return 200, {"Content-Type": "image/png", "Cache-Control": "public, max-age=86400"}, data
