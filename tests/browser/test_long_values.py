"""Every text a relay answer can carry, 2,000 characters without a space, on every
page that shows tasks, in a real Chromium at 390x844 in English and Chinese: the
page stays 390 px wide, each value wraps or scrolls in its own box, and the copy
buttons copy it whole.

One task per kind of value (plain ASCII, a URL, Chinese, emoji) carries it in
every field at once, as a relay's own answer (put in the simulator verbatim):
prompt, promptEn, description, failReason, state, customId, properties
(finalPrompt, finalZhPrompt, unknown keys), every URL field, button labels,
emoji and customIds, unknown top-level keys. A MODAL (Vary Region) child of
each carries it too, with the button's label as its lineage, so the detail
page's form, lineage line and family strip are swept as well. Each value is
then submitted on the Create page: its "Created" card and its prompt-history
line are swept there."""

import time

import pytest
from playwright.sync_api import expect

from tasks_app import services
from tasks_app.models import Task, TaskImage
from tasks_app.relay.records import MAX_CUSTOM_ID_LENGTH, MAX_LABEL_LENGTH
from tasks_app.sets.services import set_save
from tests.browser import SIZES, fit

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = SIZES["phone"]
LENGTH = 2000
# The URL kind is each task's own (working) image URL, padded to LENGTH: see _url_value.
KINDS = {
    "ascii": ("Supercalifragilistic" * 100)[:LENGTH],
    "url": None,
    "chinese": ("龙舟竞渡灯火阑珊" * 250)[:LENGTH],
    "emoji": ("🐉🌊🏮👩‍🚀🎋" * 400)[:LENGTH],
}
HASH = "5f8a2c1e-7b3d-4e9a-8c6f-1a2b3c4d5e6f"
GRID_BUTTONS = [
    *({"customId": f"MJ::JOB::upsample::{n}::{HASH}", "label": f"U{n}"} for n in range(1, 5)),
    {"customId": f"MJ::JOB::reroll::0::{HASH}::SOLO", "emoji": "🔄", "label": ""},
    *({"customId": f"MJ::JOB::variation::{n}::{HASH}", "label": f"V{n}"} for n in range(1, 5)),
]
REFUSED_ID = "1743326750099001"
ARCHIVED = 60.0  # seconds a loaded machine may take to archive the four grids


def _url_value(simulator, task_id):
    """The task's image as the simulator's CDN signs it, padded to LENGTH: it still serves."""
    url = simulator.image_url(task_id, ttl=86400)
    return url + "pad=" + "0" * (LENGTH - len(url) - len("pad="))


def _answer(task_id, value, image_url, *, broken_urls):
    """A relay's answer for a finished grid with `value` in every text it can hold."""
    now = int(time.time() * 1000)
    return {
        "id": task_id,
        "action": "IMAGINE",
        "customId": value,
        "botType": "MID_JOURNEY",
        "prompt": value,
        "promptEn": value[-1] + value[:-1],  # shown beside the prompt when it differs
        "description": value,
        "state": value,
        "submitTime": now - 90_000,
        "startTime": now - 80_000,
        "finishTime": now - 20_000,
        "imageUrl": image_url,
        "imageUrls": [{"url": url} for url in broken_urls],
        "imageWidth": 0,
        "imageHeight": 0,
        "videoUrl": value,
        "videoUrls": [value],
        "status": "SUCCESS",
        "progress": "100%",
        "failReason": value,
        "buttons": [
            *({**b, "emoji": b.get("emoji", ""), "type": 2, "style": 2} for b in GRID_BUTTONS),
            {"customId": f"MJ::Extra::{task_id}", "emoji": value, "label": value, "type": 2, "style": 2},
            {"customId": value[:MAX_CUSTOM_ID_LENGTH], "emoji": "", "label": value, "type": 2, "style": 2},
            {"customId": value, "emoji": "", "label": "kept out: customId too long", "type": 2, "style": 2},
        ],
        "maskBase64": "",
        "notifyHook": "string",
        "properties": {
            "finalPrompt": value,
            "finalZhPrompt": value,
            "notifyHook": "string",
            "discordInstanceId": "1300842274347028520",
            "messageHash": HASH,
            "unknownProperty": value,
            value[:100]: value,
        },
        "unknownField": value,
        "unknownList": [value, {"nested": value}],
    }


def _modal(task_id, value):
    """A Vary (Region) child waiting for its form, with `value` in its texts."""
    now = int(time.time() * 1000)
    return {
        "id": task_id,
        "action": "INPAINT",
        "status": "MODAL",
        "customId": value,
        "prompt": value,
        "promptEn": value,
        "description": value,
        "state": value,
        "submitTime": now - 10_000,
        "progress": "0%",
        "imageUrl": "",
        "failReason": "",
        "buttons": [],
        "properties": {"finalPrompt": value, "finalZhPrompt": value, "unknownProperty": value},
        "unknownField": value,
    }


@pytest.fixture
def long_tasks(simulator, user):
    """{kind: (grid id, MODAL child id, value)} and a grid whose image URL is
    refused with a long reason, looked up, lineage stored, images archived;
    alice may press (the MODAL form shows)."""
    user.is_staff = True
    user.save()
    tasks = {}
    for n, (kind, value) in enumerate(KINDS.items()):
        grid_id, modal_id = f"17433267500{n:02d}001", f"17433267500{n:02d}002"
        image_url = _url_value(simulator, grid_id)
        if kind == "url":
            value = image_url
            broken = [image_url.replace("hm=", "hm=0", 1)] * 4  # a bad signature: the CDN answers 404
        else:
            broken = [value] * 4  # not a URL: refused before any request
        assert len(value) == LENGTH and " " not in value
        simulator.put_raw(_answer(grid_id, value, image_url, broken_urls=broken))
        simulator.put_raw(_modal(modal_id, value))
        tasks[kind] = (grid_id, modal_id, value)
    # A "scheme" of 1,994 letters: refused, and the card says so, naming it (cut at 200).
    refused = _answer(REFUSED_ID, KINDS["ascii"], KINDS["ascii"][: LENGTH - 6] + "://cdn", broken_urls=[])
    simulator.put_raw(refused)
    ids = [task_id for grid_id, modal_id, _ in tasks.values() for task_id in (grid_id, modal_id)]
    ids.append(REFUSED_ID)
    services.task_lookup(ids=ids)
    for grid_id, modal_id, value in tasks.values():
        # What a press of the long-labelled button records (buttons/services.py).
        label, custom_id = value[:MAX_LABEL_LENGTH], value[:MAX_CUSTOM_ID_LENGTH]
        Task.objects.filter(pk=modal_id).update(
            parent_id=grid_id, pressed_label=label, pressed_custom_id=custom_id
        )
    task_set = set_save(user=user, ids=ids)
    grids = [grid_id for grid_id, _, _ in tasks.values()]
    deadline = time.monotonic() + ARCHIVED
    images = TaskImage.objects.filter(index=0)
    while (
        images.filter(task_id__in=grids, state="ok").count() < len(grids)
        or not images.filter(task_id=REFUSED_ID, state="failed").exists()
    ):
        assert time.monotonic() < deadline, "images not archived"
        time.sleep(0.2)
    return tasks, ids, task_set


def _copies(page, holder, expected):
    """The "Copy prompt" button in `holder` puts the whole value on the clipboard."""
    button = holder.locator("button.copy[data-copy-what=prompt]")
    expect(button).to_have_count(1)
    page.evaluate("navigator.clipboard.writeText('')")
    button.click()
    page.wait_for_function("v => navigator.clipboard.readText().then(t => t === v)", arg=expected)


@pytest.mark.timeout(240)
@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_every_field_of_a_relay_answer_fits_a_phone(
    lang, page, browser_login, long_tasks, live_server, screenshot
):
    tasks, ids, task_set = long_tasks
    misfits = {}  # where: what does not fit there
    page.set_viewport_size(PHONE)
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    browser_login("/")
    if lang != "en":
        page.click(f"button[name=language][value={lang}]")
    expect(page.locator("html")).to_have_attribute("lang", lang)

    # The lists: an old ?ids= link, the set, the archive, the home page's recent tasks.
    pages = {
        "list": f"/tasks/?ids={','.join(ids)}",
        "set": f"/s/{task_set.slug}/",
        "archive": "/tasks/",
        "home": "/",
    }
    for name, path in pages.items():
        page.goto(f"{live_server.url}{path}")
        cards = page.locator("#task-grid > article.card")
        expect(cards).to_have_count(len(ids))
        expect(page.locator("#task-grid img.thumb-img")).to_have_count(len(tasks))
        expect(page.locator(f"#task-{REFUSED_ID} .image-unavailable")).to_contain_text("supercalifragilistic")
        misfits[f"{lang} {name}"] = fit.misfits(page, PHONE["width"])
        if name == "list":
            screenshot(f"long-values-list-{lang}")
    for grid_id, modal_id, value in tasks.values():  # the last page's cards: the home page
        for task_id in (grid_id, modal_id):
            _copies(page, page.locator(f"#task-{task_id}"), value)

    for kind, (grid_id, modal_id, value) in tasks.items():
        # The detail page, everything opened, then its image in the lightbox.
        page.goto(f"{live_server.url}/tasks/{grid_id}/")
        page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
        expect(page.locator(".prompt-full")).to_have_text(value)
        expect(page.locator(".prompt-en")).to_have_text(value[-1] + value[:-1])
        misfits[f"{lang} detail {kind}"] = fit.misfits(page, PHONE["width"])
        if kind == "url":  # the widest before: an unbreakable URL in every field
            screenshot(f"long-values-detail-url-{lang}")
        _copies(page, page.locator(".detail-body"), value)
        page.locator(".detail-figure a.thumb.large").click()
        expect(page.locator("dialog#lightbox")).to_be_visible()
        misfits[f"{lang} lightbox {kind}"] = fit.misfits(page, PHONE["width"])
        page.keyboard.press("Escape")

        # The MODAL child: its form, lineage line and family strip, and the parent in the lightbox.
        page.goto(f"{live_server.url}/tasks/{modal_id}/")
        page.evaluate("document.querySelectorAll('details').forEach(d => { d.open = true; })")
        expect(page.locator("#modal-form textarea[name=prompt]")).to_have_value(value)
        misfits[f"{lang} modal {kind}"] = fit.misfits(page, PHONE["width"])
        _copies(page, page.locator(".detail-body"), value)
        page.locator(".family a[data-lightbox]").first.click()
        expect(page.locator("dialog#lightbox .lightbox-caption")).to_contain_text(value[:60])
        misfits[f"{lang} family lightbox {kind}"] = fit.misfits(page, PHONE["width"])
        page.keyboard.press("Escape")

    page.goto(f"{live_server.url}/tasks/{REFUSED_ID}/")
    expect(page.locator(".detail-figure .image-unavailable")).to_be_visible()
    misfits[f"{lang} detail refused image"] = fit.misfits(page, PHONE["width"])

    # The Create page: each value submitted as a prompt, then its live card in
    # "Created" and its line in the prompt history.
    for _grid_id, _modal_id, value in tasks.values():
        page.goto(f"{live_server.url}/create/")
        page.fill("#create-prompt", value)
        with page.expect_navigation():
            page.locator("button.create-submit").click()
    expect(page.locator("#task-grid > article.card")).to_have_count(len(tasks))
    expect(page.locator(".history-prompt")).to_have_count(len(tasks))
    misfits[f"{lang} create"] = fit.misfits(page, PHONE["width"])
    screenshot(f"long-values-create-{lang}")
    page.locator(".history-list a.use").first.click()  # the newest: shown cut, used whole
    expect(page.locator("#create-prompt")).to_have_value(value)

    assert {where: found for where, found in misfits.items() if found} == {}
