"""`{% card %}`: one task's card, rendered on its own so that one bad record
(stored data no template expects) costs its card, not the page.

Every page and htmx answer that shows cards renders them through this tag.
A card that raises is logged with its task's ID and replaced by a small card
saying it could not be shown, with a link to the task's detail page.
"""

from __future__ import annotations

import logging

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _

from tasks_app.organize.selectors import cards_mark, is_marked

register = template.Library()
logger = logging.getLogger(__name__)

CARD = "tasks/components.html#card"


@register.simple_tag(takes_context=True)
def card(context, task=None, oob: bool = False) -> str:
    task = context.get("task") if task is None else task
    with context.push(task=task, card_oob=oob):
        try:
            if task is not None and not is_marked(task):
                # A card no one marked with the rest (a poll answer, a press's child): its own two queries.
                request = context.get("request")
                cards_mark(tasks=[task], user=getattr(request, "user", None))
            return context.template.engine.get_template(CARD).render(context)
        except Exception:
            task_id = str(getattr(task, "pk", "") or "")
            logger.exception("the card of task %s could not be rendered", task_id)
            return broken_card(task_id)


def broken_card(task_id: str) -> str:
    try:
        url = reverse("task_detail", args=[task_id])
        link = format_html('<a class="task-id" href="{}">{}</a>', url, task_id)
    except NoReverseMatch:
        link = format_html('<span class="task-id">{}</span>', task_id)
    return format_html(
        '<article class="card card-broken" id="task-{}"><div class="card-body">'
        "<p>{}</p><p>{}</p></div></article>",
        task_id,
        _("This task could not be shown."),
        link,
    )
