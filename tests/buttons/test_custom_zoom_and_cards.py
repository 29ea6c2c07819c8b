"""Issue 12 without a browser: the Custom Zoom factor, the error pages, what a card says
while its task waits for details, the reroll button's name, times in UTC named."""

import datetime

import pytest
from django.template.loader import get_template
from django.urls import reverse
from django.utils import translation

from tasks_app import services
from tasks_app.buttons.rows import ButtonView
from tasks_app.models import Task
from tests.buttons.test_buttons import _custom_id, _press, _upscale, presser  # noqa: F401

pytestmark = pytest.mark.django_db


def _custom_zoom(presser, simulator):  # noqa: F811
    up = _upscale(simulator)
    _press(presser, up, "Custom Zoom")
    simulator.reset_counters()
    modal = Task.objects.get(parent_id=up)
    assert modal.status == "MODAL" and modal.action == "CUSTOM_ZOOM"
    return modal


def test_custom_zoom_form_has_a_zoom_factor_field_with_its_range_and_hint(presser, simulator):  # noqa: F811
    modal = _custom_zoom(presser, simulator)
    html = presser.get(reverse("task_detail", args=[modal.id])).content.decode()
    assert 'name="zoom"' in html and 'min="1.0"' in html and 'max="2.0"' in html and 'step="0.1"' in html
    assert "<code>--zoom N</code>" in html


def test_a_zoom_factor_is_appended_to_the_prompt(presser, simulator):  # noqa: F811
    modal = _custom_zoom(presser, simulator)
    response = presser.post(reverse("task_modal", args=[modal.id]), {"prompt": "a lighthouse", "zoom": "1.5"})
    assert response.status_code == 302
    assert simulator.calls["modal"] == 1
    assert simulator.received[0][1]["prompt"] == "a lighthouse --zoom 1.5"


@pytest.mark.parametrize("zoom", ["0.9", "2.1", "lots", "nan"])
def test_a_zoom_factor_out_of_range_is_refused_and_nothing_is_sent(presser, simulator, zoom):  # noqa: F811
    modal = _custom_zoom(presser, simulator)
    response = presser.post(reverse("task_modal", args=[modal.id]), {"prompt": "a lighthouse", "zoom": zoom})
    assert simulator.calls["modal"] == 0
    assert response.status_code == 400 and "1.0 to 2.0" in response.content.decode()
    modal.refresh_from_db()
    assert modal.status == "MODAL"


def test_a_modal_card_waits_for_details_with_a_link_to_its_form_and_no_bar(logged_in, simulator):
    modal = simulator.add_task(prompt="a zoomed harbour", action="CUSTOM_ZOOM", status="MODAL")
    html = logged_in.get(reverse("task_list"), {"ids": modal}).content.decode()
    card = html[html.index(f'id="task-{modal}"') :]
    card = card[: card.index("</article>")]
    assert "waiting for your details" in card
    assert f"/tasks/{modal}/#modal-form" in card
    assert "<progress" not in card and "stalled" not in card


def test_a_running_card_has_a_cancel_form_for_those_who_may_press(presser, simulator):  # noqa: F811
    running = simulator.add_task(prompt="a slow glacier", queued=0.0, run=3600.0)
    html = presser.get(reverse("task_list"), {"ids": running}).content.decode()
    # A button of the card's one form, posting the form (with its CSRF input) to the cancel path.
    assert f'<button formaction="{reverse("task_cancel", args=[running])}"' in html
    response = presser.post(reverse("task_cancel", args=[running]))
    assert response.status_code == 302
    assert Task.objects.get(pk=running).status == "CANCEL"


def test_no_cancel_form_for_those_who_may_not_press(logged_in, simulator):
    running = simulator.add_task(prompt="a slow glacier", queued=0.0, run=3600.0)
    html = logged_in.get(reverse("task_list"), {"ids": running}).content.decode()
    assert reverse("task_cancel", args=[running]) not in html


def test_an_emoji_only_button_is_named_from_its_custom_id():
    reroll = ButtonView(custom_id="MJ::JOB::reroll::0::abc::SOLO", label="", emoji="🔄", used=False)
    assert reroll.spoken == "Reroll"
    assert ButtonView(custom_id="MJ::JOB::upsample::1::abc", label="U1", emoji="", used=False).spoken == ""


def test_the_reroll_button_has_an_aria_label(logged_in, simulator):
    done = simulator.add_task(prompt="a red fox", run=1.0, queued=0.0)
    simulator.clock.advance(120)
    html = logged_in.get(reverse("task_detail", args=[done])).content.decode()
    assert 'aria-label="Reroll"' in html


def test_times_are_utc_named_with_a_machine_readable_z_time(logged_in, simulator):
    done = simulator.add_task(prompt="a red fox", run=1.0, queued=0.0)
    simulator.clock.advance(120)
    services.task_lookup(ids=[done])
    task = Task.objects.get(pk=done)
    html = logged_in.get(reverse("task_detail", args=[done])).content.decode()
    stamp = task.submit_time.astimezone(datetime.UTC)
    expected = f'<time datetime="{stamp:%Y-%m-%dT%H:%M:%S}Z" data-local>{stamp:%Y-%m-%d %H:%M:%S} UTC</time>'
    assert expected in html


# ---- error pages


@pytest.fixture
def production(settings):
    settings.DEBUG = False


def test_an_unknown_task_shows_the_dashboards_404_with_a_link_home(production, logged_in, simulator):
    response = logged_in.get("/tasks/99999999999999/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "Page not found" in html and 'href="/"' in html and "mjdash" in html
    assert html.count("<h1") == 1


def test_the_404_page_speaks_chinese(production, logged_in, simulator):
    logged_in.cookies["django_language"] = "zh-hans"
    html = logged_in.get("/tasks/99999999999999/").content.decode()
    assert "找不到页面" in html and "返回" in html


def test_the_403_page_is_the_dashboards(production, client):
    from django.core.exceptions import PermissionDenied
    from django.test import RequestFactory
    from django.views.defaults import permission_denied

    request = RequestFactory().get("/admin/")
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    html = permission_denied(request, PermissionDenied()).content.decode()
    assert "Not allowed" in html and 'href="/"' in html


def test_the_500_page_renders_with_no_context_at_all_in_both_languages():
    template = get_template("500.html")
    assert "Something went wrong" in template.render({})
    with translation.override("zh-hans"):
        html = template.render({})
    assert 'lang="zh-hans"' in html and "服务器" in html and 'href="/"' in html


def test_the_500_view_answers_with_the_dashboards_page(production, client):
    from django.test import RequestFactory
    from django.views.defaults import server_error

    response = server_error(RequestFactory().get("/"))
    assert response.status_code == 500 and "Something went wrong" in response.content.decode()
