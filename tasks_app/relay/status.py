"""A task's status as the relay names it, and which statuses are final."""

from django.db import models
from django.utils.translation import pgettext_lazy


class Status(models.TextChoices):
    """The statuses the relay documents, with what a person reads for each.

    The set is open: a status the relay invents later is stored and shown as
    sent, so code compares against these members and never rejects others.
    """

    NOT_START = "NOT_START", pgettext_lazy("task status", "Not started")
    SUBMITTED = "SUBMITTED", pgettext_lazy("task status", "Submitted")
    MODAL = "MODAL", pgettext_lazy("task status", "Needs details")
    IN_PROGRESS = "IN_PROGRESS", pgettext_lazy("task status", "In progress")
    SUCCESS = "SUCCESS", pgettext_lazy("task status", "Success")
    FAILURE = "FAILURE", pgettext_lazy("task status", "Failed")
    CANCEL = "CANCEL", pgettext_lazy("task status", "Cancelled")


# A final task is final: never asked for again unless someone asks to refresh,
# and never moved to another status by a later answer.
FINAL_STATUSES = frozenset({Status.SUCCESS, Status.FAILURE, Status.CANCEL})


def is_final(status: str) -> bool:
    return status in FINAL_STATUSES


# The order of a task's life; a later answer never moves a task to a lower rank.
_RANKS = {Status.NOT_START: 0, Status.SUBMITTED: 1, Status.MODAL: 1, Status.IN_PROGRESS: 2}


def status_rank(status: str) -> int:
    """How far along a task with this status is: 3 when final, 1 for a status we do not know."""
    return 3 if is_final(status) else _RANKS.get(status, 1)


def status_label(status: str):
    """What a person reads: the documented label, or the status as the relay sent it."""
    if status in Status.values:
        return Status(status).label
    return status or pgettext_lazy("task status", "Unknown")
