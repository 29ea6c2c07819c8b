"""The relay client: the only code that speaks HTTP to the Midjourney proxy.

Callers import from here: `from tasks_app import relay; relay.list_by_condition(ids)`.
What the code relies on about the relay's API is written down in docs/relay.md.
"""

from tasks_app.relay.client import (
    cancel,
    fetch,
    list_batches,
    list_by_condition,
    longest_call,
    submit_action,
    submit_blend,
    submit_describe,
    submit_imagine,
    submit_modal,
    submit_shorten,
)
from tasks_app.relay.codes import STARTED, Code
from tasks_app.relay.errors import (
    BadAnswer,
    KeyRejected,
    RateLimited,
    TooLargeToSend,
    UpstreamDown,
    UpstreamError,
)
from tasks_app.relay.records import (
    MAX_ID_LENGTH,
    MIN_ID_DIGITS,
    Button,
    SubmitResult,
    TaskRecord,
    is_task_id,
    normalise_envelope,
    normalise_task,
)
from tasks_app.relay.status import FINAL_STATUSES, Status, is_final, status_label, status_rank

__all__ = [
    "FINAL_STATUSES",
    "MAX_ID_LENGTH",
    "MIN_ID_DIGITS",
    "STARTED",
    "BadAnswer",
    "Button",
    "Code",
    "KeyRejected",
    "RateLimited",
    "Status",
    "SubmitResult",
    "TaskRecord",
    "TooLargeToSend",
    "UpstreamDown",
    "UpstreamError",
    "cancel",
    "fetch",
    "is_final",
    "is_task_id",
    "list_batches",
    "list_by_condition",
    "longest_call",
    "normalise_envelope",
    "normalise_task",
    "status_label",
    "status_rank",
    "submit_action",
    "submit_blend",
    "submit_describe",
    "submit_imagine",
    "submit_modal",
    "submit_shorten",
]
