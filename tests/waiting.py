"""Waiting in a test for what another process or thread does: a condition polled
until it holds, else a failure that names what never came."""

import time


def wait_until(condition, *, timeout: float = 60.0, what: str = "condition", every: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")
