"""A set of 500 end to end under the production profile, served by gunicorn (as `make prod` runs it)."""

import re

import pytest

from tests import prodserver
from tests.conftest import API_KEY

pytestmark = pytest.mark.timeout(240)


def test_a_set_of_500_is_pasted_shown_and_polled_under_gunicorn(simulator, tmp_path):
    ids = [simulator.add_task(run=900.0) for _ in range(500)]
    env = prodserver.production_env(tmp_path, MJ_API_BASE=simulator.base_url, MJ_API_KEY=API_KEY)
    prodserver.prepare(env)
    # As scripts/prod: gthread workers, and request lines up to 8190 bytes (old links of ~450 IDs).
    with prodserver.gunicorn(env) as base:
        session = prodserver.login(base)
        home = session.get(f"{base}/", timeout=10)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', home.text).group(1)
        pasted = "\n".join(ids) + "\nAuthorization: Bearer sk-never-in-a-url"

        pasted_answer = session.post(
            f"{base}/tasks/",
            data={"ids": pasted, "csrfmiddlewaretoken": token},
            timeout=60,
            allow_redirects=False,
        )

        assert pasted_answer.status_code == 302
        set_url = pasted_answer.headers["Location"]
        assert re.fullmatch(r"/s/[A-Za-z0-9_-]{8,16}/", set_url)
        page = session.get(f"{base}{set_url}", timeout=60)
        assert page.status_code == 200
        # The first 100 cards, counted as the whole 500; the rest page by page, as htmx asks as one scrolls.
        assert page.text.count('class="card ') == 100 and "500 tasks" in page.text
        assert re.search(r'<div id="poller"[^>]*hx-post="/tasks/poll"', page.text) is not None
        shown = page.text.count('class="card ')
        for number in range(2, 6):
            more = session.get(f"{base}{set_url}?page={number}", headers={"HX-Request": "true"}, timeout=60)
            assert more.status_code == 200 and "<html" not in more.text
            shown += more.text.count('class="card ')
        assert shown == 500
        seen = ",".join(f"{task_id}:old" for task_id in ids)
        poll = session.post(
            f"{base}/tasks/poll",
            data={"ids": seen},
            headers={"X-CSRFToken": session.cookies["csrftoken"]},
            timeout=60,
        )
        assert poll.status_code == 200
        assert poll.text.count('hx-swap-oob="true"') >= 500
        old_link = f"{base}/tasks/?ids=" + ",".join(ids[:450])
        long_link = session.get(old_link, timeout=60, allow_redirects=False)
        assert long_link.status_code == 302 and long_link.headers["Location"].startswith("/s/")
