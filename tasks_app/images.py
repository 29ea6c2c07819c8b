"""Result images: a guarded download, an archive in default storage, thumbnails.

Discord's image URLs expire within a day and weigh megabytes, so a finished
task's images are fetched once, kept, and served as small WebP thumbnails from
the archive. A URL comes from the relay, so it may point anywhere: every
download goes through one guarded session (http(s) only; every address a host
resolves to is checked and the connection is made to a checked address, so DNS
cannot change its answer in between; redirects followed by hand and checked
again; a size cap while streaming; a total deadline) and Pillow reads the body
with an explicit list of raster formats and a pixel limit. Across processes an
image is downloaded once: whoever adds the lock in the shared cache does it,
the others wait for its row.
"""

from __future__ import annotations

import base64
import hashlib
import io
import ipaddress
import logging
import re
import socket
import tempfile
import time
import uuid
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import requests
from django.conf import settings
from django.core.cache import cache
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from PIL import Image, UnidentifiedImageError
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from tasks_app.models import Task, TaskImage

logger = logging.getLogger(__name__)

FORMATS = ("PNG", "JPEG", "WEBP", "GIF")
CHUNK = 64 * 1024
POLL_SECONDS = 0.05

FAILURES = {
    "scheme": _("only http and https links are fetched"),
    "address": _("address not allowed"),
    "dns": _("host not found"),
    "redirects": _("too many redirects"),
    "http": _("the image host answered with an error"),
    "timeout": _("the download timed out"),
    "network": _("could not connect to the image host"),
    "too_large": _("the image is too large"),
    "svg": _("SVG images are not accepted"),
    "not_image": _("not a PNG, JPEG, WebP or GIF image"),
    "bomb": _("too many pixels (decompression bomb)"),
}


class ImageError(Exception):
    """Base of what the image services raise instead of serving a file."""


class ImageMissing(ImageError):
    """No such task, or it has no finished image."""


class ImagePending(ImageError):
    """Another request is downloading this image right now."""


class ImageUnavailable(ImageError):
    def __init__(self, image: TaskImage):
        self.image = image
        super().__init__(image.reason)


class ImageRefused(Exception):
    """A download that was refused or failed; `code` is a key of FAILURES."""

    def __init__(self, code: str, detail: str = ""):
        self.code, self.detail = code, detail[:200]
        super().__init__(f"{code}: {detail}" if detail else code)


@dataclass(frozen=True, slots=True)
class Served:
    """A file of the archive, ready for a view to send."""

    name: str
    content_type: str
    etag: str
    filename: str
    token: str = ""  # the thumbnail URL's ?v=, a capability that needs no login


def failure_text(code: str, detail: str = "") -> str:
    text = str(FAILURES.get(code, code or _("unknown error")))
    return f"{text} ({detail})" if detail else text


# ---- services the views call --------------------------------------------------


def thumb_get(*, task_id: str, fetch: bool = True) -> Served:
    """The thumbnail, built (and the original downloaded) on first request.

    Without `fetch` only an archived image is served: anonymous holders of a
    thumbnail's capability URL never start a download. The answer is cached,
    so serving an archived thumbnail costs no database query.
    """
    key = _thumb_key(task_id)
    served = cache.get(key)
    if served is not None:
        return served
    image = _main_image(task_id, fetch=fetch)
    if not image.thumb or max(image.thumb_width, image.thumb_height) != _thumb_side(image):
        image = _locked(image, _thumb_rebuild)
    served = Served(image.thumb, "image/webp", image.etag, f"{task_id}-{image.index}.webp", image.token)
    cache.set(key, served, timeout=86400)
    return served


def original_get(*, task_id: str) -> Served:
    image = _main_image(task_id)
    task = image.task
    slug = slugify(task.prompt_en or task.prompt, allow_unicode=True)[:60].strip("-")
    ext = image.original.rsplit(".", 1)[-1]
    name = f"{task_id}-{slug}.{ext}" if slug else f"{task_id}.{ext}"
    return Served(image.original, image.content_type, f'"{image.sha256[:32]}"', name)


def quadrant_get(*, task_id: str, n: int) -> Served:
    """Quadrant n (1-4, in Midjourney's reading order) of a grid, cropped from the original."""
    image = _main_image(task_id)
    if n not in range(1, 5) or not image.task.is_grid:
        raise ImageMissing(task_id)
    name = _stem(image.task_id, image.index, image.sha256) + f"-q{n}.webp"
    if not default_storage.exists(name):
        _locked(image, lambda row: _quadrant_build(row, n, name), suffix=f"q{n}")
    return Served(name, "image/webp", f'"{image.sha256[:32]}-q{n}"', f"{task_id}-{n}.webp")


def image_retry(*, task_id: str) -> TaskImage:
    """Forget failed downloads of this task and try its main image again now."""
    TaskImage.objects.filter(task_id=task_id, state=TaskImage.State.FAILED).delete()
    cache.delete(_thumb_key(task_id))
    try:
        return _main_image(task_id, wait=settings.MJ_IMAGE_LOCK_WAIT)
    except ImageUnavailable as exc:
        return exc.image


def image_ensure(*, task: Task, index: int, url: str, wait: float = 0.0) -> TaskImage:
    """The archived row of one image, downloading it first when there is none.

    Raises ImagePending when another request holds the download for longer
    than `wait` seconds. A failed download is a row too (state failed), so
    it is not tried again until someone asks for a retry.
    """
    image = TaskImage.objects.filter(task=task, index=index).first()
    if image is not None:
        return image
    placeholder = TaskImage(task=task, index=index, source_url=url)
    return _locked(placeholder, lambda _row: _archive(task=task, index=index, url=url), wait=wait)


def image_prepare(*, task: Task) -> TaskImage | None:
    """Archive a finished task's main image now, if it is not; never raises."""
    sources = task.image_sources
    if not sources:
        return None
    try:
        image = image_ensure(
            task=task, index=sources[0][0], url=sources[0][1], wait=settings.MJ_IMAGE_LOCK_WAIT
        )
    except ImagePending:
        return None
    # The task may carry images prefetched before this archived one: drop them
    # so the page that renders it next reads the row just made.
    getattr(task, "_prefetched_objects_cache", {}).pop("images", None)
    return image


def images_pending(*, retry_failed: bool = False) -> list[tuple[Task, int, str]]:
    """(task, index, url) of every finished image not archived yet."""
    done = TaskImage.objects.all() if not retry_failed else TaskImage.objects.filter(state=TaskImage.State.OK)
    have = set(done.values_list("task_id", "index"))
    found = []
    for task in Task.objects.filter(status="SUCCESS").order_by("pk").iterator():
        for index, url in task.image_sources:
            if (task.pk, index) not in have:
                found.append((task, index, url))
    return found


def thumb_build(source, *, size: int) -> tuple[bytes, tuple[int, int], str, str]:
    """(WebP bytes, (width, height), dominant colour, tiny preview data URI).

    draft() lets a JPEG decode at a fraction of its size; thumbnail() with a
    reducing gap of 1 shrinks by the largest whole factor with a cheap box
    reduce (2048 -> 512 in one step) and resamples only what is left, so a
    build costs little more than one plain decode.
    """
    with _open(source) as im:
        im.draft("RGB", (size, size))
        im.thumbnail((size, size), Image.Resampling.BILINEAR, reducing_gap=1.0)
        im = _web_mode(im)
    out = io.BytesIO()
    im.save(out, "WEBP", quality=80, method=2)
    pixel = im.convert("RGB").resize((1, 1), Image.Resampling.BOX).getpixel((0, 0))
    colour = "#{:02x}{:02x}{:02x}".format(*pixel)
    tiny = im.convert("RGB")
    tiny.thumbnail((16, 16), Image.Resampling.BOX)
    small = io.BytesIO()
    tiny.save(small, "WEBP", quality=40)
    preview = "data:image/webp;base64," + base64.b64encode(small.getvalue()).decode()
    return out.getvalue(), im.size, colour, preview


# ---- the archive ------------------------------------------------------------------


def _main_image(task_id: str, wait: float | None = None, fetch: bool = True) -> TaskImage:
    image = TaskImage.objects.select_related("task").filter(task_id=task_id).order_by("index").first()
    if image is None or image.index != 0:
        task = Task.objects.filter(pk=task_id).first()
        sources = task.image_sources if task else []
        if not sources:
            raise ImageMissing(task_id)
        index, url = sources[0]
        if image is None or image.index != index:
            if not fetch:
                raise ImageMissing(task_id)
            wait = settings.MJ_IMAGE_LOCK_WAIT if wait is None else wait
            image = image_ensure(task=task, index=index, url=url, wait=wait)
    if not image.is_ok:
        raise ImageUnavailable(image)
    return image


def _archive(*, task: Task, index: int, url: str) -> TaskImage:
    image = TaskImage.objects.filter(task=task, index=index).first()
    if image is not None:  # someone finished while we took the lock
        return image
    image = TaskImage(task=task, index=index, source_url=url, attempts=1)
    try:
        with _download(url) as (body, digest, size):
            thumb, (tw, th), colour, preview = thumb_build(body, size=settings.MJ_THUMB_SIZE)
            with _open(body) as im:
                fmt, (width, height) = im.format, im.size
            stem = _stem(task.pk, index, digest)
            image.original = _save(f"{stem}.{fmt.lower().replace('jpeg', 'jpg')}", File(body))
            image.thumb = _save(f"{stem}-{settings.MJ_THUMB_SIZE}.webp", ContentFile(thumb))
    except ImageRefused as exc:
        logger.info("image %s#%d refused: %s", task.pk, index, exc)
        image.state, image.failure, image.failure_detail = TaskImage.State.FAILED, exc.code, exc.detail
    else:
        image.state, image.bytes, image.sha256 = TaskImage.State.OK, size, digest
        image.width, image.height, image.content_type = width, height, Image.MIME[fmt]
        image.thumb_width, image.thumb_height, image.colour, image.preview = tw, th, colour, preview
    image.save()
    return image


def _thumb_rebuild(image: TaskImage) -> TaskImage:
    image.refresh_from_db()
    if image.thumb and max(image.thumb_width, image.thumb_height) == _thumb_side(image):
        return image
    with default_storage.open(image.original, "rb") as original:
        thumb, (tw, th), image.colour, image.preview = thumb_build(original, size=settings.MJ_THUMB_SIZE)
    stem = _stem(image.task_id, image.index, image.sha256)
    image.thumb = _save(f"{stem}-{settings.MJ_THUMB_SIZE}.webp", ContentFile(thumb))
    image.thumb_width, image.thumb_height = tw, th
    image.save(update_fields=["thumb", "thumb_width", "thumb_height", "colour", "preview", "updated"])
    return image


def _quadrant_build(image: TaskImage, n: int, name: str) -> TaskImage:
    if default_storage.exists(name):
        return image
    with default_storage.open(image.original, "rb") as original, _open(original) as im:
        half_w, half_h = im.width // 2, im.height // 2
        left, top = (n - 1) % 2 * half_w, (n - 1) // 2 * half_h
        crop = _web_mode(im.crop((left, top, left + half_w, top + half_h)))
    out = io.BytesIO()
    crop.save(out, "WEBP", quality=85, method=2)
    _save(name, ContentFile(out.getvalue()))
    return image


def _locked(image: TaskImage, work, *, wait: float | None = None, suffix: str = ""):
    """Run work(image) as the only holder of this image's lock, or wait for the holder."""
    key = "mjdash:image-lock:" + hashlib.sha1(f"{image.task_id}|{image.index}|{suffix}".encode()).hexdigest()
    token = uuid.uuid4().hex
    if cache.add(key, token, timeout=int(settings.MJ_IMAGE_TIMEOUT + 60)):
        try:
            return work(image)
        finally:
            if cache.get(key) == token:
                cache.delete(key)
    deadline = time.monotonic() + (settings.MJ_IMAGE_LOCK_WAIT if wait is None else wait)
    while cache.get(key) is not None:
        if time.monotonic() >= deadline:
            raise ImagePending(image.task_id)
        time.sleep(POLL_SECONDS)
    if image.pk is None:
        found = TaskImage.objects.filter(task_id=image.task_id, index=image.index).first()
        if found is None:
            raise ImagePending(image.task_id)
        return found
    image.refresh_from_db()
    return image


def _thumb_key(task_id: str) -> str:
    return "mjdash:thumb:" + hashlib.sha1(task_id.encode()).hexdigest()


def _save(name: str, content) -> str:
    if default_storage.exists(name):  # the same bytes (the name holds their hash)
        return name
    return default_storage.save(name, content)


def _stem(task_id: str, index: int, digest: str) -> str:
    safe = re.sub(r"[^0-9A-Za-z_-]", "_", task_id)[:64]
    return f"images/{safe}/{index}-{digest[:16]}"


def _thumb_side(image: TaskImage) -> int:
    return min(settings.MJ_THUMB_SIZE, max(image.width, image.height))


def _open(source) -> Image.Image:
    """Pillow with an explicit list of raster formats and the pixel limit enforced
    as an error (Pillow only warns below twice its limit)."""
    if hasattr(source, "seek"):
        source.seek(0)
    try:
        im = Image.open(source, formats=FORMATS)
    except Image.DecompressionBombError as exc:
        raise ImageRefused("bomb", str(exc)[:80]) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise ImageRefused("not_image") from None
    if im.width * im.height > settings.MJ_IMAGE_MAX_PIXELS:
        im.close()
        raise ImageRefused("bomb", f"{im.width}x{im.height}")
    return im


def _web_mode(im: Image.Image) -> Image.Image:
    try:
        if im.mode in ("RGB", "RGBA"):
            im.load()
            return im
        alpha = "A" in im.getbands() or "transparency" in im.info
        return im.convert("RGBA" if alpha else "RGB")
    except (OSError, SyntaxError, ValueError):  # truncated or corrupt data
        raise ImageRefused("not_image", "cannot be decoded") from None


# ---- the guarded download ----------------------------------------------------------


class _download:
    """Context manager: (temporary file, sha256, size) of the body at `url`."""

    def __init__(self, url: str):
        self.url = url
        self.file = None

    def __enter__(self):
        self.file = tempfile.TemporaryFile(prefix="mjdash-image-")
        try:
            digest, size = _fetch(self.url, self.file)
        except BaseException:
            self.file.close()
            raise
        self.file.seek(0)
        return self.file, digest, size

    def __exit__(self, *exc):
        self.file.close()


def _fetch(url: str, out) -> tuple[str, int]:
    deadline = time.monotonic() + settings.MJ_IMAGE_TIMEOUT
    cap = settings.MJ_IMAGE_MAX_BYTES
    for _hop in range(settings.MJ_IMAGE_MAX_REDIRECTS + 1):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ImageRefused("scheme", parts.scheme)
        remaining = max(0.1, deadline - time.monotonic())
        try:
            response = _session().get(
                url,
                stream=True,
                allow_redirects=False,
                timeout=(min(settings.MJ_IMAGE_CONNECT_TIMEOUT, remaining), remaining),
                headers={
                    "Accept": "image/webp,image/png,image/jpeg,image/gif",
                    "Accept-Encoding": "identity",
                },
            )
        except requests.Timeout:
            raise ImageRefused("timeout") from None
        except requests.RequestException as exc:
            raise ImageRefused("network", type(exc).__name__) from None
        with response:
            if response.is_redirect:
                url = urljoin(url, response.headers.get("Location", ""))
                continue
            if response.status_code != 200:
                raise ImageRefused("http", f"HTTP {response.status_code}")
            if "svg" in response.headers.get("Content-Type", "").lower():
                raise ImageRefused("svg")
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > cap:
                raise ImageRefused("too_large", _megabytes(int(declared)))
            hasher, size = hashlib.sha256(), 0
            try:
                for chunk in response.iter_content(CHUNK):
                    size += len(chunk)
                    if size > cap:
                        raise ImageRefused("too_large", f"> {_megabytes(cap)}")
                    if time.monotonic() > deadline:
                        raise ImageRefused("timeout")
                    hasher.update(chunk)
                    out.write(chunk)
            except requests.RequestException as exc:
                code = "timeout" if "timed out" in str(exc).lower() else "network"
                raise ImageRefused(code, type(exc).__name__) from None
        out.seek(0)
        if _looks_like_svg(out.read(1024)):
            raise ImageRefused("svg")
        return hasher.hexdigest(), size
    raise ImageRefused("redirects", f"> {settings.MJ_IMAGE_MAX_REDIRECTS}")


def _looks_like_svg(head: bytes) -> bool:
    text = head.lstrip().lower()
    return text.startswith(b"<svg") or (text.startswith(b"<?xml") and b"<svg" in text)


def _megabytes(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB"


def address_refusal(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    """Why this address may not be fetched from, or "" when it may."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    for network in settings.MJ_IMAGE_ALLOWED_NETWORKS:
        if ip in ipaddress.ip_network(network, strict=False):
            return ""
    if ip.is_loopback:
        return "" if settings.MJ_IMAGE_ALLOW_LOOPBACK else "loopback"
    for kind in ("link_local", "multicast", "unspecified", "reserved", "private"):
        if getattr(ip, f"is_{kind}"):
            return kind.replace("_", "-")
    return "" if ip.is_global else "private"


def _guarded_socket(conn: HTTPConnection) -> socket.socket:
    """Resolve, refuse if ANY address is not allowed, then connect to a checked one."""
    host, port = conn._dns_host, conn.port
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise ImageRefused("dns", host) from None
    for *_rest, sockaddr in infos:
        ip = ipaddress.ip_address(sockaddr[0].split("%", 1)[0])
        why = address_refusal(ip)
        if why:
            raise ImageRefused("address", f"{ip} ({why})")
    error: OSError | None = None
    for family, kind, proto, _name, sockaddr in infos:
        sock = socket.socket(family, kind, proto)
        try:
            for option in conn.socket_options or ():
                sock.setsockopt(*option)
            sock.settimeout(conn.timeout)
            sock.connect(sockaddr)
            return sock
        except TimeoutError as exc:
            sock.close()
            raise ConnectTimeoutError(conn, f"connect to {host} timed out") from exc
        except OSError as exc:
            sock.close()
            error = exc
    raise NewConnectionError(conn, f"Failed to connect: {error}")


class _GuardedHTTPConnection(HTTPConnection):
    def _new_conn(self) -> socket.socket:
        return _guarded_socket(self)


class _GuardedHTTPSConnection(HTTPSConnection):
    def _new_conn(self) -> socket.socket:
        return _guarded_socket(self)


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class _GuardedAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}


_shared: requests.Session | None = None


def _session() -> requests.Session:
    """The only way this project fetches an image. No proxies from the
    environment: a proxy would connect on our behalf, past the guard."""
    global _shared
    if _shared is None:
        session = requests.Session()
        session.trust_env = False
        adapter = _GuardedAdapter(pool_connections=8, pool_maxsize=16, max_retries=0)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        _shared = session
    return _shared
