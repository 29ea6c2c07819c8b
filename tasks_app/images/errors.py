"""Why an image is not served: one small family of errors, and the reasons a
download is refused, in words a person reads on the card."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from tasks_app.models import TaskImage

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
    "aspect": _("too long and thin to show"),
    "error": _("the image could not be processed"),
}


class ImageError(Exception):
    """Base of what the image services raise instead of serving a file."""


class ImageMissing(ImageError):
    """No such task, or it has no finished image."""


class ImagePending(ImageError):
    """Not archived yet: a worker has it queued, is downloading it, or will try again."""


class ImageUnavailable(ImageError):
    def __init__(self, image: TaskImage):
        self.image = image
        super().__init__(image.reason)


class ImageRefused(Exception):
    """A download that was refused or failed; `code` is a key of FAILURES."""

    def __init__(self, code: str, detail: str = ""):
        self.code, self.detail = code, detail[:200]
        super().__init__(f"{code}: {detail}" if detail else code)


def failure_text(code: str, detail: str = "") -> str:
    text = str(FAILURES.get(code, code or _("unknown error")))
    return f"{text} ({detail})" if detail else text
