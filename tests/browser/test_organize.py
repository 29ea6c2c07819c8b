"""Stars, tags, filters, a selection's actions, and sets kept in order, clicked in a
real Chromium at 1440x900 and 390x844, in English and in Chinese."""

import re

import pytest
from playwright.sync_api import expect

from tasks_app import services
from tasks_app.models import Press, Star, TaskSet, TaskTag
from tasks_app.relay import Button, TaskRecord
from tests.a11y import axe_violations, describe
from tests.browser import SIZES
from tests.browser.fit import misfits

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXT = {
    "en": {"starred": "Starred by me (1)", "tagged": "4 tags added.", "deleted": "Deleted sets"},
    "zh-hans": {"starred": "我加星标的 (1)", "tagged": "已添加 4 个标签。", "deleted": "已删除的集合"},
}
U1 = (Button(custom_id="MJ::JOB::upsample::1::h", label="U1"),)


def _stored(n, start, prompt="a heron in the reeds, ink wash --ar 3:2"):
    ids = [str(start + i) for i in range(n)]
    services.task_store(
        records=[TaskRecord(id=i, status="SUCCESS", progress=100, prompt=prompt, buttons=U1) for i in ids]
    )
    return ids


def _open(page, browser_login, path, size, lang):
    page.set_viewport_size(SIZES[size])
    browser_login(path)
    if lang != "en":
        page.click(f"button[name=language][value={lang}]")
        expect(page.locator("html")).to_have_attribute("lang", lang)


def _fits(page, size):
    assert (found := misfits(page, SIZES[size]["width"])) == [], found
    assert (severe := axe_violations(page)) == [], describe(severe)


@pytest.mark.parametrize("size", ["desktop", "phone"])
@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_star_tag_filter_and_act_on_a_selection_in_the_archive(
    size, lang, user, page, browser_login, live_server, screenshot
):
    ids = _stored(3, 1776000000000000)
    _open(page, browser_login, "/tasks/", size, lang)
    expect(page.locator("article.card")).to_have_count(3)
    first = page.locator(f"#task-{ids[0]}")

    star = first.locator("[data-star]")
    star.click()
    expect(first.locator("[data-star]")).to_have_attribute("aria-pressed", "true")
    assert list(Star.objects.values_list("task_id", flat=True)) == [ids[0]]

    # Enter in the tag field adds the tag: it never presses the card's U1.
    first.locator("input[name=tag]").fill("heron")
    first.locator("input[name=tag]").press("Enter")
    expect(first.locator(".tag a")).to_have_text("heron")
    assert not Press.objects.exists()
    first.locator(".tag button").click()  # and × takes it off
    expect(first.locator(".tag")).to_have_count(0)
    first.locator("input[name=tag]").fill("heron")
    first.locator("button.add-tag").click()
    expect(first.locator(".tag a")).to_have_text("heron")
    screenshot(f"organize-card-{size}-{lang}")

    # A selection of two: tagged at once, then made a set.
    for task_id in ids[1:]:
        page.locator(f"#pick-{task_id}").check()
    expect(page.locator("[data-bulk-count]")).to_contain_text("2")
    page.select_option("#bulk-do", "tag")
    expect(page.locator("#bulk-set")).to_be_hidden()
    page.fill("#bulk-tag", "reeds, ink")
    page.locator("#bulk button[type=submit]").click()
    expect(page.locator(".messages")).to_contain_text(TEXT[lang]["tagged"])
    assert TaskTag.objects.filter(tag__key="reeds").count() == 2

    page.check("input[name=starred]")
    page.locator(".archive-filters button[type=submit]").click()
    expect(page.locator("article.card")).to_have_count(1)
    expect(page.locator("label[for=id_starred]")).to_have_text(TEXT[lang]["starred"])
    page.goto(f"{live_server.url}/tasks/")
    page.select_option("select[name=tag]", "reeds")
    page.locator(".archive-filters button[type=submit]").click()
    expect(page.locator("article.card")).to_have_count(2)
    expect(page.locator("select[name=tag] option[value=reeds]")).to_have_text("reeds (2)")
    _fits(page, size)
    screenshot(f"organize-archive-filtered-{size}-{lang}")

    page.locator("[data-select-all]").click()
    page.select_option("#bulk-do", "set_add")
    page.select_option("#bulk-set", "new")
    page.locator("#bulk button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/s/[A-Za-z0-9_-]+/$"))
    made = TaskSet.objects.get()
    assert made.ids == [ids[2], ids[1]]
    expect(page.locator(".set-head h1")).to_contain_text("a heron in the reeds")

    page.locator(f"#pick-{ids[2]}").check()
    page.select_option("#bulk-do", "csv")
    with page.expect_download() as download:
        page.locator("#bulk button[type=submit]").click()
    assert download.value.suggested_filename == "mjdash-selection.csv"
    assert ids[2] in download.value.path().read_text(encoding="utf-8-sig")


@pytest.mark.parametrize("size", ["desktop", "phone"])
@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_a_set_is_added_to_trimmed_deleted_after_a_confirmation_and_restored(
    size, lang, user, page, browser_login, browser, live_server, django_user_model, screenshot
):
    ids = _stored(3, 1777000000000000, prompt="一只白鹭站在芦苇丛中，水墨画")
    _open(page, browser_login, "/", size, lang)
    page.fill("textarea[name=ids]", " ".join(ids[:2]))
    page.locator("form.paste button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/s/[A-Za-z0-9_-]+/$"))
    set_url = page.url
    slug = TaskSet.objects.get().slug
    expect(page.locator(".set-head h1")).to_contain_text("一只白鹭站在芦苇丛中")

    page.locator("details.add-ids summary").click()
    page.fill("details.add-ids textarea", ids[2])
    page.locator("details.add-ids button[type=submit]").click()
    expect(page.locator("article.card")).to_have_count(3)

    page.locator(f"#pick-{ids[0]}").check()
    page.select_option("#bulk-do", "set_remove")
    page.locator("#bulk button[type=submit]").click()
    expect(page.locator("article.card")).to_have_count(2)
    assert TaskSet.objects.get().ids == ids[1:]
    _fits(page, size)
    screenshot(f"organize-set-{size}-{lang}")

    page.locator("details.delete summary").click()
    confirm = page.locator("details.delete button.danger")
    expect(confirm).to_be_visible()
    assert TaskSet.objects.get().deleted_at is None  # opening the question deletes nothing
    confirm.click()
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.locator(".deleted-sets")).to_be_visible()
    expect(page.locator("h2", has_text=TEXT[lang]["deleted"])).to_be_visible()
    screenshot(f"organize-set-deleted-home-{size}-{lang}")

    django_user_model.objects.create_user("bob", password="bob-pass-123")
    context = browser.new_context(viewport=SIZES[size])
    try:
        other = context.new_page()
        other.goto(f"{live_server.url}/accounts/login/?next=/s/{slug}/")
        other.fill("input[name=username]", "bob")
        other.fill("input[name=password]", "bob-pass-123")
        other.click("section.login button[type=submit]")
        expect(other.locator(".set-deleted")).to_be_visible()  # the link did not die
        expect(other.locator(".set-deleted")).to_contain_text("alice")
        other.close()
    finally:
        context.close()

    page.locator(f".deleted-sets form[action='/s/{slug}/restore'] button").click()
    expect(page).to_have_url(set_url)
    expect(page.locator("article.card")).to_have_count(2)
    assert TaskSet.objects.get().deleted_at is None
