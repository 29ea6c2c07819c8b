"""The `code` of the envelope every submit route answers with."""

from enum import IntEnum


class Code(IntEnum):
    # The job started; `result` holds its task ID (or several, comma-separated).
    SUBMITTED = 1
    # A validation or system error; `description` says why.
    FAILED = 4
    # Two dialects. The original proxy: the job exists already (`result` is its
    # ID). Plus-style proxies: the button needs a form, and `result` is a new
    # task in status MODAL. Looking at that task tells them apart.
    EXISTS_OR_MODAL = 21
    # Accepted and queued behind other jobs; `result` is the new task ID.
    QUEUED = 22
    # The relay's queue is full: nothing started, try later.
    QUEUE_FULL = 23
    # The prompt holds a banned word (`properties.bannedWord`).
    BANNED_PROMPT = 24


# Codes after which a job is running (or waiting to) at the relay.
STARTED = frozenset({Code.SUBMITTED, Code.QUEUED})
