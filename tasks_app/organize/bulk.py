"""Actions on a selection of cards (the archive's or a set's): star, tag, add to
or remove from a set. Exports of a selection reuse gallery/exports.py (views/organize.py)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from tasks_app.models import TaskSet
from tasks_app.organize import services
from tasks_app.organize.tags import TagError, tag_names_parse
from tasks_app.relay import is_task_id
from tasks_app.sets import services as set_services

ACTIONS = ("star", "unstar", "tag", "untag", "set_add", "set_remove", "csv", "json", "zip")
FILE_ACTIONS = ("csv", "json", "zip")
NEW_SET = "new"


class BulkError(ValueError):
    """The selection or the action cannot be done as asked: the message says why."""


@dataclass
class BulkDone:
    message: str
    task_set: TaskSet | None = None  # the set the selection went to (or came out of)


def selection_ids(values: list[str]) -> list[str]:
    """The selected task IDs, in page order, each once; BulkError when there is none or too many."""
    ids = list(dict.fromkeys(value for value in values if is_task_id(value)))
    if not ids:
        raise BulkError(_("Select at least one task first."))
    if len(ids) > settings.MJ_MAX_IDS:
        raise BulkError(_("At most %(n)d tasks at once.") % {"n": settings.MJ_MAX_IDS})
    return ids


def bulk_apply(*, user, action: str, ids: list[str], tag_text: str = "", set_slug: str = "") -> BulkDone:
    """Do `action` (one of ACTIONS but the files) to the selected tasks; what to tell the person."""
    if action in ("star", "unstar"):
        changed = services.tasks_star(user=user, ids=ids, starred=action == "star")
        text = (
            ngettext("Starred %(n)d task.", "Starred %(n)d tasks.", changed)
            if action == "star"
            else ngettext("Unstarred %(n)d task.", "Unstarred %(n)d tasks.", changed)
        )
        return BulkDone(text % {"n": changed})
    if action in ("tag", "untag"):
        try:
            names = tag_names_parse(tag_text)
        except TagError as error:
            raise BulkError(str(error)) from error
        if action == "tag":
            added = services.tags_add(user=user, ids=ids, names=names)
            text = ngettext("%(n)d tag added.", "%(n)d tags added.", added) % {"n": added}
        else:
            removed = services.tags_remove(ids=ids, names=names)
            text = ngettext("%(n)d tag removed.", "%(n)d tags removed.", removed) % {"n": removed}
        return BulkDone(text)
    if action == "set_add":
        return _to_set(user=user, ids=ids, set_slug=set_slug)
    if action == "set_remove":
        task_set = _own_set(user=user, set_slug=set_slug)
        removed, kept = set_services.set_remove(task_set=task_set, ids=ids)
        text = ngettext("%(n)d task removed from the set.", "%(n)d tasks removed from the set.", removed) % {
            "n": removed
        }
        if kept:
            text += " " + ngettext(
                "%(n)d was started from a task of the set and stays while its parent does.",
                "%(n)d were started from tasks of the set and stay while their parents do.",
                kept,
            ) % {"n": kept}
        return BulkDone(text, task_set)
    raise BulkError(_("Choose what to do with the selected tasks."))


def _to_set(*, user, ids: list[str], set_slug: str) -> BulkDone:
    known = services.known_ids(ids)
    if set_slug == NEW_SET:
        task_set = set_services.set_save(user=user, ids=known)
        return BulkDone(
            ngettext("A new set of %(n)d task.", "A new set of %(n)d tasks.", len(known)) % {"n": len(known)},
            task_set,
        )
    task_set = _own_set(user=user, set_slug=set_slug)
    added, left_out = set_services.set_add(task_set=task_set, ids=known)
    text = ngettext("%(n)d task added to “%(set)s”.", "%(n)d tasks added to “%(set)s”.", added) % {
        "n": added,
        "set": task_set.title,
    }
    if left_out:
        text += " " + _("%(n)d did not fit: a set holds at most %(max)d.") % {
            "n": left_out,
            "max": settings.MJ_MAX_IDS,
        }
    return BulkDone(text, task_set)


def _own_set(*, user, set_slug: str) -> TaskSet:
    task_set = TaskSet.objects.filter(slug=set_slug, deleted_at__isnull=True).first() if set_slug else None
    if task_set is None:
        raise BulkError(_("Choose one of your sets."))
    if task_set.created_by_id != user.pk:
        raise BulkError(_("Only the person who made a set may change it."))
    return task_set
