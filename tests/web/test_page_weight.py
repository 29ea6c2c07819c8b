"""A results page's weight follows its number of cards, never their square, and
a poll's follows what changed (issue 12, point 7); a pressed button shows as
used at once and a set holds the tasks its buttons started (point 4).

bench/page_weight.py prints the same figures for 10, 100 and 500 cards.
"""

import io
import re

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from PIL import Image

from tasks_app import relay, services
from tasks_app.buttons.custom_ids import find_custom_id, short_custom_id
from tasks_app.images.processing import thumb_build
from tasks_app.models import Task, TaskImage, TaskSet
from tasks_app.relay import TaskRecord

pytestmark = pytest.mark.django_db

CARD_RE = re.compile(r'<article class="card.*?</article>', re.S)
KB2 = 2048
# What a card gained with stars, tags and the selection (issue 19): its star button,
# its tag field with its "+" and its selection checkbox, measured at 512 B
# (bench/page_weight.py: running 1,615 -> 2,127 B, finished grid 2,449 -> 2,962 B).
MARKS = 512


@pytest.fixture
def presser(client, user):
    user.user_permissions.add(Permission.objects.get(codename="press_button"))
    client.force_login(user)
    return client


def _grids(simulator, count: int) -> list[str]:
    """Finished grids with their nine buttons and an archived image (with its blurred preview)."""
    ids = [
        simulator.add_task(prompt=f"a lighthouse at dusk, oil painting, study {i} --ar 1:1", run=1.0, ago=60)
        for i in range(count)
    ]
    services.task_lookup(ids=ids)
    picture = io.BytesIO()
    Image.effect_noise((256, 256), 64).convert("RGB").save(picture, "PNG")
    _thumb, (width, height), preview = thumb_build(io.BytesIO(picture.getvalue()), size=512)
    TaskImage.objects.filter(task_id__in=ids).delete()
    TaskImage.objects.bulk_create(
        TaskImage(
            task_id=task.id,
            index=0,
            source_url=task.image_url,
            state=TaskImage.State.OK,
            sha256="ab" * 32,
            thumb=f"t/{task.id}.webp",
            thumb_width=width,
            thumb_height=height,
            preview=preview,
        )
        for task in Task.objects.filter(pk__in=ids)
    )
    return ids


def _running(simulator, count: int) -> list[str]:
    ids = [
        simulator.add_task(prompt=f"a fox in the snow, watercolour {i}", run=600.0, ago=240)
        for i in range(count)
    ]
    services.task_lookup(ids=ids)
    return ids


def _set_page(client, user, ids: list[str], **params):
    task_set = TaskSet.objects.create(
        slug=f"s{len(ids)}x{ids[0][-4:]}", ids=ids, ids_hash="-", created_by=user
    )
    return client.get(reverse("set_detail", args=[task_set.slug]), params), task_set


@pytest.mark.parametrize("count", [10, 500])
def test_a_card_weighs_the_same_at_10_and_500_cards_and_a_running_one_under_2_kb(
    presser, user, simulator, settings, count, django_assert_max_num_queries, jobs_held
):
    settings.MJ_FRESHNESS_SECONDS = 3600  # measured from the cache, as a viewer sees it moments later
    grids, running = _grids(simulator, count), _running(simulator, count)
    for ids, bound in ((running, KB2 + MARKS), (grids, KB2 + 768 + MARKS)):
        # Flat in the number of cards: session, user, set, children, tasks, images, the
        # viewer's stars and the cards' tags, 2 permission reads, the visit, the set's
        # default name, the viewer's sets and the team's tags (the bulk form), unknown IDs,
        # whether a worker's lookup failed lately (running cards: lookups.relay_error).
        with django_assert_max_num_queries(18):
            page, _set = _set_page(presser, user, ids)
        cards = CARD_RE.findall(page.content.decode())
        assert len(cards) == min(count, 100)
        sizes = [len(card.encode()) for card in cards]
        # A running card is under 2.5 KB. A finished grid carries nine buttons (each
        # posting its short customId), its CSRF input for posting without
        # JavaScript, a thumbnail with its preview, times: it stays under 2.5 KB
        # (it was 7.5 KB, and its page grew as N squared before sets had slugs), and
        # with its prompt to reuse ("Use this prompt", "Vary this prompt", "Run again":
        # about 230 bytes) under 2.75 KB; with a star, a tag field and a selection
        # checkbox (MARKS) under 3.25 KB.
        assert max(sizes) < bound, max(sizes)
        assert max(sizes) - min(sizes) < 64  # nothing in a card grows with the page


def test_a_page_has_one_form_and_one_csrf_input_a_card_and_no_next_fields(presser, user, simulator):
    ids = _grids(simulator, 3) + _running(simulator, 2)
    page, _set = _set_page(presser, user, ids)
    text = page.content.decode()
    cards = CARD_RE.findall(text)
    assert len(cards) == 5
    for card in cards:
        assert card.count("<form") == 1 and card.count("csrfmiddlewaretoken") == 1
        assert 'name="next"' not in card and "{% url" not in card
    grid = next(card for card in cards if "row-u" in card)
    assert grid.count('<button name="custom_id" value="') == 9
    assert 'value="upsample::2"' in grid and 'value="reroll::0::SOLO"' in grid
    # refresh and run again (a finished task has no cancel), the star, the tag field's "+"
    assert grid.count("formaction=") == 4
    running = cards[-1]
    assert 'formaction="/tasks/' in running and "/cancel" in running and "/refresh" in running
    # The page: the cards' forms plus the paste, rename, add, delete, selection,
    # log-out and language forms.
    outside = re.sub(r'<article class="card.*?</article>', "", text, flags=re.S)
    assert outside.count("<form") <= 7 and text.count("<form") == 5 + outside.count("<form")
    assert 'hx-headers=\'{"X-CSRFToken": "' in text  # htmx sends the token once, as a header


def test_a_short_custom_id_names_one_button_of_its_task():
    buttons = [
        {"customId": "MJ::JOB::upsample::1::46bc2908-58f0-4ae3-a7ee-4bfcc6da9590"},
        {"customId": "MJ::JOB::reroll::0::46bc2908-58f0-4ae3-a7ee-4bfcc6da9590::SOLO"},
        {"customId": "MJ::CustomZoom::46bc2908-58f0-4ae3-a7ee-4bfcc6da9590"},
        {"customId": "odd::twin"},
        {"customId": "MJ::odd::twin::46bc2908-58f0-4ae3-a7ee-4bfcc6da9590"},
    ]
    assert [short_custom_id(b["customId"]) for b in buttons[:3]] == [
        "upsample::1",
        "reroll::0::SOLO",
        "CustomZoom",
    ]
    assert find_custom_id(buttons, "upsample::1") == buttons[0]["customId"]
    assert (
        find_custom_id(buttons, buttons[1]["customId"]) == buttons[1]["customId"]
    )  # whole, as the API posts
    assert find_custom_id(buttons, "odd::twin") is None  # two buttons answer to it: refused
    assert find_custom_id(buttons, "upsample::2") is None and find_custom_id(buttons, "") is None


def test_a_card_posts_its_short_custom_id_and_the_relay_gets_the_whole_one(presser, simulator):
    [grid] = _grids(simulator, 1)
    response = presser.post(reverse("task_action", args=[grid]), {"custom_id": "upsample::2"})
    assert response.status_code == 302
    child = Task.objects.get(parent_id=grid)
    assert child.pressed_custom_id.startswith("MJ::JOB::upsample::2::") and child.pressed_label == "U2"
    refused = presser.post(reverse("task_action", args=[grid]), {"custom_id": "upsample::9"})
    assert refused.status_code == 400 and Task.objects.filter(parent_id=grid).count() == 1


def test_list_queries_leave_the_json_only_the_detail_page_shows(simulator):
    [grid] = _grids(simulator, 1)
    [task] = services.task_lookup(ids=[grid]).tasks
    assert {"payload", "properties"} <= task.get_deferred_fields()
    assert task.payload["id"] == grid  # the detail page still reads it (one more query)


def test_a_poll_answer_where_nothing_changed_is_a_small_constant(logged_in, simulator, settings):
    settings.MJ_FRESHNESS_SECONDS = 3600
    running = _running(simulator, 100)
    stamps = {task.id: task.card_stamp for task in Task.objects.filter(pk__in=running)}

    def poll(entries):
        return logged_in.post(reverse("task_poll"), {"ids": ",".join(entries)}, HTTP_HX_REQUEST="true")

    hundred = poll([f"{i}:{stamps[i]}" for i in running])
    three = poll([f"{i}:{stamps[i]}" for i in running[:3]])
    assert hundred.status_code == three.status_code == 200
    assert len(hundred.content) == len(three.content) < 512  # was 2,895 bytes for 100 (the ID list)
    one = poll([f"{running[0]}:old"] + [f"{i}:{stamps[i]}" for i in running[1:]])
    two = poll([f"{i}:old" for i in running[:2]] + [f"{i}:{stamps[i]}" for i in running[2:]])
    card = len(one.content) - len(hundred.content)
    assert 0 < card < KB2 + MARKS and len(two.content) - len(hundred.content) == pytest.approx(
        2 * card, abs=64
    )


def test_the_page_carries_no_id_list_for_its_poller(logged_in, user, simulator):
    ids = _running(simulator, 20)
    page, _set = _set_page(logged_in, user, ids)
    poller = re.search(r'<div id="poller"[^>]*>', page.content.decode()).group(0)
    assert "ids" not in poller  # static/js/poller.js sends the live cards it finds
    assert 'hx-trigger="every 3000ms, mjdash:poll"' in poller
    assert page.content.decode().count("data-poll-id=") == 20


def test_a_set_of_250_comes_100_cards_a_page_and_counts_them_all(logged_in, user, simulator, settings):
    ids = [str(1750000000000000 + i) for i in range(250)]
    services.task_store(records=[TaskRecord(id=i, status="SUCCESS", progress=100, prompt="x") for i in ids])
    page, task_set = _set_page(logged_in, user, ids)
    text = page.content.decode()
    assert len(CARD_RE.findall(text)) == 100 and "250 tasks" in text
    url = reverse("set_detail", args=[task_set.slug])
    more = re.search(r'<a class="more-cards" href="([^"]+)" hx-get="([^"]+)" hx-trigger="revealed"', text)
    assert more.group(1) == more.group(2) == f"{url}?page=2"
    assert f"/s/{task_set.slug}/" in re.search(r'class="share-link"[^>]*>', text).group(
        0
    )  # the whole set's link

    second = logged_in.get(more.group(1), HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in second and len(CARD_RE.findall(second)) == 100
    assert ids[100] in CARD_RE.findall(second)[0]
    assert f'href="{url}?page=3"' in second
    third = logged_in.get(f"{url}?page=3", HTTP_HX_REQUEST="true").content.decode()
    assert len(CARD_RE.findall(third)) == 50 and "more-cards" not in third
    chinese = logged_in.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "再显示 150 个任务" in chinese
    plain = logged_in.get(f"{url}?page=2").content.decode()  # without JavaScript: a page of its own
    assert "<html" in plain and len(CARD_RE.findall(plain)) == 100 and "250 tasks" in plain


# ---- point 4: pressed buttons, and the set's children ------------------------------


def test_a_pressed_button_shows_as_used_in_the_press_answer_and_at_once_on_the_page(presser, user, simulator):
    [grid] = _grids(simulator, 1)
    simulator.reset_counters()
    answer = presser.post(
        reverse("task_action", args=[grid]), {"custom_id": "upsample::2"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    # Out of band: the pressed button, marked used, wherever the page shows it.
    oob = re.search(
        r'<button name="custom_id" value="upsample::2" class="used"[^>]*hx-swap-oob="([^"]*)"', answer
    )
    assert oob and f"form[action=&quot;/tasks/{grid}/action&quot;]" in oob.group(1)
    assert simulator.calls["list"] == 0  # the parent was not fetched again

    page, _set = _set_page(presser, user, [grid])
    card = CARD_RE.findall(page.content.decode())[0]
    assert (
        card.count('class="used"') == 1
        and '<button name="custom_id" value="upsample::2" class="used"' in card
    )
    assert all(grid not in batch for batch in simulator.list_batches)  # only its new child was asked about

    # A later answer of the relay that does not mark it (yet) leaves the mark.
    record = relay.normalise_task(Task.objects.get(pk=grid).payload)  # as fetched before the press
    record_buttons = [b for b in record.buttons if "upsample::2" in b.custom_id]
    assert record_buttons and record_buttons[0].style != 3
    services.task_store(records=[record])
    assert any(b["style"] == 3 for b in Task.objects.get(pk=grid).buttons if "upsample::2" in b["customId"])


def test_a_sets_page_count_and_exports_hold_the_tasks_its_buttons_started(presser, user, simulator):
    grids = _grids(simulator, 2)
    page, task_set = _set_page(presser, user, grids)
    assert "2 tasks" in page.content.decode()
    presser.post(reverse("task_action", args=[grids[0]]), {"custom_id": "upsample::1"})
    child = Task.objects.get(parent_id=grids[0])
    presser.post(reverse("task_action", args=[child.id]), {"custom_id": "x"})  # a refused press adds nothing

    again = presser.get(reverse("set_detail", args=[task_set.slug])).content.decode()
    order = [re.search(r'id="task-(\d+)"', card).group(1) for card in CARD_RE.findall(again)]
    assert order == [grids[0], child.id, grids[1]]  # the child after its parent
    assert "3 tasks" in again
    csv = b"".join(presser.get(reverse("set_export", args=[task_set.slug, "csv"])).streaming_content)
    assert child.id.encode() in csv
