"""What people click, in a real Chromium: paste 500 IDs, share the set with a teammate,
copy links, export, and search the archive."""

import csv
import io
import re
import zipfile

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from playwright.sync_api import expect

from tasks_app import services
from tasks_app.models import TaskImage, TaskSet
from tasks_app.relay import TaskRecord

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _stored(n, start, **fields):
    ids = [str(start + i) for i in range(n)]
    services.task_store(records=[TaskRecord(id=i, **fields) for i in ids])
    return ids


def _scroll_to_the_end(page) -> None:
    """Scroll a set's page until its last page of cards has come."""
    for _ in range(20):
        more = page.locator(".more-cards")
        if not more.count():
            return
        before = page.locator("article.card").count()
        more.scroll_into_view_if_needed()
        page.wait_for_function(f"() => document.querySelectorAll('article.card').length > {before}")


def test_500_ids_pasted_in_mixed_formats_become_a_set_a_second_user_opens(
    browser_login, browser, live_server, simulator, django_user_model, screenshot
):
    running = simulator.add_task(prompt="a lighthouse in a storm", queued=0.0, run=900.0)
    done = _stored(499, 1766000000000000, status="SUCCESS", progress=100, prompt="a quiet harbour")
    key = "Authorization: Bearer sk-should-not-leak-42"
    body = '{"ids":["' + done[0] + '","' + done[1] + '"]}'
    curl = f"curl -H '{key}' --data '{body}'"
    log_line = f'2026-11-26 12:00:01 {{"ts":1764158401000,"taskId":"{done[2]}"}} ok'
    pasted = "\n".join([curl, log_line, ", ".join(done[3:200]), "\n".join(done[200:]), running])
    page = browser_login("/")
    page.fill("textarea[name=ids]", pasted)
    page.click("text=Show tasks")

    expect(page).to_have_url(re.compile(r"/s/[A-Za-z0-9_-]{8,16}/$"))
    # The first 100 cards; the count is the whole set's; the rest come as one scrolls.
    expect(page.locator("article.card")).to_have_count(100)
    expect(page.locator(".set-head .meta")).to_contain_text("500 tasks")
    set_url = page.url
    assert "sk-should-not-leak" not in set_url and "sk-should-not-leak" not in page.content()
    assert TaskSet.objects.get().ids == [*done, running]

    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.click(".share button.copy")
    expect(page.locator(".share .copied")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == set_url
    screenshot("set-500")

    django_user_model.objects.create_user("bob", password="bob-pass-123")
    context = browser.new_context()
    try:
        other = context.new_page()
        other.goto(f"{live_server.url}/accounts/login/?next={set_url.removeprefix(live_server.url)}")
        other.fill("input[name=username]", "bob")
        other.fill("input[name=password]", "bob-pass-123")
        other.click("section.login button[type=submit]")
        expect(other).to_have_url(set_url)
        _scroll_to_the_end(other)
        expect(other.locator("article.card")).to_have_count(500)
        assert other.locator("article.card").evaluate_all("cards => cards.map(c => c.id)") == [
            f"task-{task_id}" for task_id in [*done, running]
        ]
        expect(other.locator("button:has-text('Delete set')")).to_have_count(0)
        other.close()
    finally:
        context.close()


def test_a_set_exports_csv_and_a_zip_and_its_cards_copy_their_id_and_prompt(browser_login, simulator):
    ids = _stored(
        2, 1767000000000000, status="SUCCESS", prompt="=cmd a red kite", image_url="https://c/k.png"
    )
    for task_id in ids:
        name = default_storage.save(f"originals/{task_id}.png", ContentFile(b"\x89PNG " + task_id.encode()))
        TaskImage.objects.update_or_create(
            task_id=task_id,
            index=0,
            defaults={
                "state": "ok",
                "original": name,
                "content_type": "image/png",
                "source_url": "https://c/k.png",
            },
        )
    page = browser_login("/")
    page.fill("textarea[name=ids]", " ".join(ids))
    page.click("text=Show tasks")
    expect(page).to_have_url(re.compile(r"/s/[A-Za-z0-9_-]+/$"))
    slug = TaskSet.objects.get().slug

    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    card = page.locator(f"#task-{ids[0]}")
    card.locator("button.copy", has_text="Copy ID").click()
    expect(card.locator(".share-tools .copied")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == ids[0]
    card.locator("button.copy", has_text="Copy prompt").click()
    page.wait_for_function("t => navigator.clipboard.readText().then(v => v === t)", arg="=cmd a red kite")

    with page.expect_download() as csv_download:
        page.click(".exports a:has-text('CSV')")
    rows = list(csv.DictReader(io.StringIO(csv_download.value.path().read_text(encoding="utf-8-sig"))))
    assert csv_download.value.suggested_filename == f"{slug}.csv"
    assert [row["id"] for row in rows] == ids and rows[0]["prompt"] == "'=cmd a red kite"

    with page.expect_download() as zip_download:
        page.click(".exports a:has-text('ZIP')")
    assert zip_download.value.suggested_filename == f"{slug}.zip"
    assert zipfile.ZipFile(zip_download.value.path()).namelist() == [f"{i}-cmd-a-red-kite.png" for i in ids]


def test_the_archive_is_searched_by_a_word_of_a_prompt_and_by_status(browser_login, screenshot):
    kites = _stored(2, 1768000000000000, status="SUCCESS", prompt="a red kite over hills")
    failed = _stored(1, 1768000000000100, status="FAILURE", prompt="a red kite in rain", fail_reason="banned")
    _stored(3, 1768000000000200, status="SUCCESS", prompt="a quiet harbour")
    page = browser_login("/")
    page.click("a.nav-archive")
    expect(page.locator("article.card")).to_have_count(6)

    page.fill("input[name=q]", "kite")
    page.click(".archive-filters button[type=submit]")
    expect(page.locator("article.card")).to_have_count(3)
    expect(page).to_have_url(re.compile(r"q=kite"))

    page.select_option("select[name=status]", "FAILURE")
    page.click(".archive-filters button[type=submit]")
    expect(page.locator("article.card")).to_have_count(1)
    expect(page.locator(f"#task-{failed[0]}")).to_be_visible()
    screenshot("archive-filtered")

    page.fill("input[name=q]", "zeppelin")
    page.click(".archive-filters button[type=submit]")
    expect(page.locator(".empty-state")).to_have_text("No task matches these filters.")
    assert kites  # the other matches were there to be filtered out
