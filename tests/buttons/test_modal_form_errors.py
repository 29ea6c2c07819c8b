"""Issue 12, point 2: a MODAL form sent with a missing or wrong field comes back
as the same form, with what was typed and the error in place, in either
language; nothing reaches the relay."""

import pytest
from django.urls import reverse

from tests.buttons.test_buttons import _modal, presser  # noqa: F401
from tests.buttons.test_custom_zoom_and_cards import _custom_zoom

pytestmark = pytest.mark.django_db

MISSING_MASK = {"en": "Draw or type at least one rectangle.", "zh-hans": "请至少画出或输入一个矩形。"}


@pytest.mark.parametrize("lang", ["en", "zh-hans"])
def test_a_vary_region_without_a_mask_returns_the_same_form_with_the_error(
    presser,  # noqa: F811
    simulator,
    lang,
):
    modal = _modal(presser, simulator)
    presser.cookies["django_language"] = lang

    response = presser.post(
        reverse("task_modal", args=[modal.id]),
        {"prompt": "a lighthouse, stormy sky", "rects": "", "width": "1024", "height": "1024"},
    )

    assert response.status_code == 400
    html = response.content.decode()
    assert f'action="{reverse("task_modal", args=[modal.id])}"' in html  # the form itself, again
    form = html.split('id="modal-form"', 1)[1].split("</form>", 1)[0]
    assert f'<p class="form-error" role="alert" id="modal-error-{modal.id}">{MISSING_MASK[lang]}</p>' in form
    assert "a lighthouse, stormy sky</textarea>" in form  # what was typed is kept
    assert 'autofocus aria-invalid="true"' in form
    assert sum(simulator.calls.values()) == 0  # the relay was not asked anything


def test_a_bad_rectangle_and_a_bad_zoom_keep_what_was_typed(presser, simulator):  # noqa: F811
    modal = _modal(presser, simulator)
    form = {"prompt": "x", "rects": "1,2,3", "width": "900", "height": "700"}
    html = presser.post(reverse("task_modal", args=[modal.id]), form).content.decode()
    assert 'value="1,2,3"' in html and 'value="900"' in html and 'value="700"' in html
    assert "is not a rectangle" in html

    zoom = _custom_zoom(presser, simulator)
    response = presser.post(reverse("task_modal", args=[zoom.id]), {"prompt": "a harbour", "zoom": "2.5"})
    assert response.status_code == 400
    html = response.content.decode()
    assert 'name="zoom" class="zoom" min="1.0" max="2.0" step="0.1" value="2.5"' in html
    assert "form-error" in html and "1.0 to 2.0" in html
    assert sum(simulator.calls.values()) == 0
