"""Template helpers for live cards: the page's one poller, and run times people can read."""

import json
import logging
from dataclasses import dataclass
from datetime import timedelta

from django import template
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from tasks_app import services

register = template.Library()
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Poller:
    vals: str
    interval_ms: int
    failures: int


@register.simple_tag(takes_context=True)
def poller(context, tasks=(), *, main=None, main_id="", pending=(), failures=0, interval=None):
    """The page's poller: when to ask (the page's live cards say what about).

    `main` is the task a detail page is about (its live panel, not a card),
    `main_id` its ID while it is being looked up; `pending` the IDs being
    looked up. With nothing unfinished or pending the poller has no time
    trigger, so it stays quiet.
    """
    everything = (*(tasks or ()), *([main] if main else ()))
    live = list({task.id: task for task in everything if task and _followed(task)}.values())
    if interval is None:
        interval = services.poll_interval(tasks=live, failures=failures)
    # The IDs are not listed here: static/js/poller.js sends every [data-poll-id]
    # on the page with its stamp, so an answer where nothing changed is this
    # small element and nothing else, however many cards are running.
    vals = {"failures": failures}
    if main or main_id:
        vals["main"] = main.id if main else main_id
    state = Poller(json.dumps(vals), int(interval * 1000) if live or pending else 0, failures)
    return render_to_string("tasks/components.html#poller", {"poller": state}, request=context.get("request"))


def _followed(task) -> bool:
    """Live, with a stamp; a record whose stored data breaks this is not followed
    (its card says it could not be shown: templatetags/cards.py), the page stands."""
    try:
        return bool(task.is_live and task.card_stamp)
    except Exception:
        logger.exception("task %s: cannot tell whether it is live", getattr(task, "pk", "?"))
        return False


@register.filter
def duration(value):
    """A timedelta as "48 s", "2 min 5 s" or "1 h 3 min"; "" for nothing."""
    if not isinstance(value, timedelta):
        return ""
    seconds = max(0, round(value.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return _("%(h)d h %(m)d min") % {"h": hours, "m": minutes}
    if minutes:
        return _("%(m)d min %(s)d s") % {"m": minutes, "s": secs} if secs else _("%(m)d min") % {"m": minutes}
    return _("%(s)d s") % {"s": secs}
