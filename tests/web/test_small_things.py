"""Small things a daily user hits: the dashboard's own 404 under DEBUG too, the
admin's "Presses", a favicon, the archive's banner slot, set times in the viewer's
zone, a new child card's action."""

import pytest
from django.contrib.admin.sites import site

from tasks_app import services
from tasks_app.buttons import presses
from tasks_app.models import Press, Task, TaskSet
from tasks_app.relay import TaskRecord

pytestmark = pytest.mark.django_db

MISSING = ["/tasks/99999999999999/", "/taks/", "/s/nosuchslug1/"]  # unknown task, typo, deleted set


@pytest.mark.parametrize("debug", [True, False])
@pytest.mark.parametrize("path", MISSING)
def test_a_missing_page_is_the_dashboards_own_in_every_mode_and_language(
    logged_in, simulator, settings, debug, path
):
    settings.DEBUG = debug
    english = logged_in.get(path)
    chinese = logged_in.get(path, headers={"accept-language": "zh-Hans"})

    for answer in (english, chinese):
        assert answer.status_code == 404
        page = answer.content.decode()
        assert 'class="error-page"' in page and "Using the URLconf" not in page and "Traceback" not in page
        assert '<meta name="viewport" content="width=device-width' in page
    assert "Page not found" in english.content.decode()
    assert "找不到页面" in chinese.content.decode()


def test_the_admin_says_presses(admin_client):
    assert Press._meta.verbose_name_plural == "presses"
    assert "Presses" in admin_client.get("/admin/").content.decode()
    assert Press in site._registry


def test_every_page_names_its_favicon(logged_in, settings):
    page = logged_in.get("/").content.decode()
    assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page
    assert (settings.BASE_DIR / "static" / "favicon.svg").read_text().startswith("<svg")


def test_the_archive_has_the_outage_banners_slot(logged_in):
    services.task_store(records=[TaskRecord(id="1765000000000001", status="IN_PROGRESS", progress=10)])
    page = logged_in.get("/tasks/").content.decode()
    assert 'id="upstream-banner"' in page and 'id="poller"' in page  # the poll's banner lands here


def test_a_sets_time_is_written_for_the_viewers_zone(logged_in, user):
    TaskSet.objects.create(slug="t1mezoneset", ids=["1765000000000002"], ids_hash="x", created_by=user)
    for page in (logged_in.get("/s/t1mezoneset/").content.decode(), logged_in.get("/").content.decode()):
        assert '<time datetime="' in page and 'Z" data-local>' in page and " UTC</time>" in page


def test_a_brand_new_child_card_shows_its_action(logged_in, user):
    services.task_store(records=[TaskRecord(id="1765000000000003", status="SUCCESS", action="IMAGINE")])
    parent = Task.objects.get(pk="1765000000000003")
    lineage = {
        "parent": parent,
        "pressed_custom_id": "MJ::JOB::upsample::2::" + "a" * 36,
        "pressed_label": "U2",
    }

    child = presses.record_children(ids=["1765000000000004"], lineage={**lineage, "pressed_by": user})[0]

    assert child.action == "UPSCALE"
    card = logged_in.get("/tasks/?ids=1765000000000004").content.decode()
    assert '<span class="action">UPSCALE</span>' in card
