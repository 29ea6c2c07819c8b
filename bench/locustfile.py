"""Locust users for the production profile: people paging the archive, pages
polling their live cards, and people opening task details.

Driven by bench/load.py, which starts the server and the relay simulator and
passes in (environment):

- MJDASH_SESSION, MJDASH_CSRF: one logged-in session's cookies, shared by every
  user (a login costs a deliberate ~1 s of hashing; the load is the pages);
- MJDASH_LIVE: comma-separated IDs of unfinished tasks (what pollers ask for);
- MJDASH_IDS: comma-separated IDs of every task (what details open).

Any answer of 400 or more counts as a failure, and `--exit-code-on-error`
makes locust's exit code say so.
"""

import os
import random
import re

from locust import HttpUser, between, task

NEXT = re.compile(r'href="(/tasks/\?[^"]*before=[^"]+)"')
LIVE = [i for i in os.environ.get("MJDASH_LIVE", "").split(",") if i]
IDS = [i for i in os.environ.get("MJDASH_IDS", "").split(",") if i]


class Viewer(HttpUser):
    wait_time = between(0.5, 2.0)

    def on_start(self):
        self.client.cookies.set("sessionid", os.environ["MJDASH_SESSION"])
        self.client.cookies.set("csrftoken", os.environ["MJDASH_CSRF"])

    def _check(self, response):
        if response.status_code >= 400:
            response.failure(f"HTTP {response.status_code}")
        else:
            response.success()

    @task(3)
    def page_the_archive(self):
        with self.client.get("/tasks/", name="archive", catch_response=True) as first:
            self._check(first)
            found = NEXT.search(first.text or "")
        if found:
            with self.client.get(
                found.group(1).replace("&amp;", "&"), name="archive older", catch_response=True
            ) as r:
                self._check(r)

    @task(4)
    def poll(self):
        watched = random.sample(LIVE, min(len(LIVE), 10))
        data = {"ids": ",".join(f"{task_id}:old" for task_id in watched)}
        headers = {"X-CSRFToken": os.environ["MJDASH_CSRF"], "HX-Request": "true"}
        with self.client.post(
            "/tasks/poll", data=data, headers=headers, name="poll", catch_response=True
        ) as r:
            self._check(r)

    @task(2)
    def open_a_detail(self):
        task_id = random.choice(IDS)
        with self.client.get(f"/tasks/{task_id}/", name="detail", catch_response=True) as r:
            self._check(r)
