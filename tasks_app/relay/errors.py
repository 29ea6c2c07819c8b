"""What the relay client raises: one small family, each with a message a person can read."""

from django.utils.translation import gettext_lazy as _

from tasks_app.text import clean_text


class UpstreamError(Exception):
    """Base of every failure to get a usable answer from the proxy."""

    message = _("The relay did not give a usable answer.")
    # True when the request may have reached the relay (a timeout, a 5xx): a
    # paid submit then has an unknown outcome and is reconciled, not re-sent.
    maybe_sent = False

    def __init__(self, detail: str = ""):
        # Shown on pages and stored (a press's message): a relay's words, cleaned.
        self.detail = clean_text(detail[:300])
        super().__init__(str(self.message) + (f" ({self.detail})" if self.detail else ""))


class KeyRejected(UpstreamError):
    message = _("The relay rejected the API key (check MJ_API_KEY: wrong, expired or out of credit).")


class RateLimited(UpstreamError):
    message = _("The relay is rate limiting requests; try again shortly.")

    def __init__(self, detail: str = "", retry_after: float | None = None):
        self.retry_after = retry_after
        super().__init__(detail)


class UpstreamDown(UpstreamError):
    message = _("The relay is unreachable or failing (server error or timeout).")


class BadAnswer(UpstreamError):
    message = _("The relay answered with something that is not a task list.")


class TooLargeToSend(UpstreamError):
    """Refused here, before a byte left: the relay was not asked."""

    message = _("Too large to send to the relay (MJ_SUBMIT_MAX_BYTES).")
