"""The named queues of background work, so that no kind of job waits behind another.

A follow tick (every page's freshness) and a press (a person waiting) must
never sit behind an image download from a slow host. `manage.py serve` and
`manage.py workers` start one worker for FOLLOW, PRESS and DEFAULT and
MJ_IMAGE_WORKERS workers for IMAGES; each image job may hold its worker at most
MJ_IMAGE_JOB_SECONDS. Plain names only: mjdash/settings.py imports this module.
"""

FOLLOW = "follow"  # follow_tick (one batched relay call about every unfinished task), tasks_lookup
PRESS = "press"  # press_send, press_reconcile, press_adopt: paid, a person waits
IMAGES = "images"  # downloads, thumbnails, renditions: slow hosts, big pictures
DEFAULT = "default"  # anything else

ALL = (FOLLOW, PRESS, IMAGES, DEFAULT)
# What one "urgent" worker takes, in this order: nothing here waits for a download.
URGENT = (FOLLOW, PRESS, DEFAULT)
