"""One bad record costs its own card, never the page: a card that cannot be
rendered from what is stored is a small "could not be shown" card."""

import pytest

from tasks_app import services
from tasks_app.models import Task

pytestmark = pytest.mark.django_db

BAD = "1743326750000666"


def _good_and_bad(simulator):
    good = simulator.add_task(prompt="a healthy heron", queued=0.0, run=1.0)
    simulator.clock.advance(60)
    services.task_lookup(ids=[good])
    # A row no template expects (an old version's, a hand edit): image_urls a number.
    Task.objects.create(id=BAD, status="SUCCESS", prompt="broken", image_url="", image_urls=7)
    return good


@pytest.mark.parametrize(
    "lang,words", [("en", "This task could not be shown."), ("zh-hans", "无法显示此任务")]
)
def test_a_page_with_a_bad_record_renders_with_that_card_only_replaced(logged_in, simulator, lang, words):
    good = _good_and_bad(simulator)

    response = logged_in.get(f"/tasks/?ids={good},{BAD}", HTTP_ACCEPT_LANGUAGE=lang)

    assert response.status_code == 200
    text = response.content.decode()
    assert "a healthy heron" in text  # the good card, whole
    assert f'id="task-{BAD}"' in text and words in text and f"/tasks/{BAD}/" in text


def test_the_archive_and_the_poller_survive_a_bad_record(logged_in, simulator):
    _good_and_bad(simulator)

    archive = logged_in.get("/tasks/")
    poll = logged_in.post("/tasks/poll", {"ids": f"{BAD}:old"}, HTTP_HX_REQUEST="true")

    assert archive.status_code == 200 and "a healthy heron" in archive.content.decode()
    assert "This task could not be shown." in archive.content.decode()
    assert poll.status_code in (200, 286)  # 286: nothing left to follow, the poller stops
    assert "This task could not be shown." in poll.content.decode()  # the bad card is sent once
