"""Sweeps, not samples: every URL pattern the project serves (admin included) is asked.

A review turned login off on one view and CSRF off on two, and tests that
sampled a few URLs did not notice. These walk them all (tests/routes.py).
"""

import pytest
from django.test import Client

from tasks_app import relay, services
from tasks_app.models import Task
from tests.conftest import API_KEY
from tests.routes import PRESS_ONLY, TASK_ID, all_routes

pytestmark = pytest.mark.django_db

ROUTES = all_routes()
# Open to anonymous visitors on purpose; everything else needs a login.
PUBLIC = {
    "login",  # the way in
    "logout",  # POST only; logging out nobody is harmless
    "set_language",  # the login page has the language switch
    "healthz",  # load balancers
    "readyz",
    "notify_hook",  # the relay; its token is its credential (404 without it)
    "admin:login",  # the admin's own way in
    "task_thumb",  # <img> on a shared page: a signed token in the URL is its credential
}
# Refuses a missing CSRF token by its own check (the token in its path), not Django's.
CSRF_EXEMPT = {"notify_hook"}
# POSTs that make the relay act for the user: a press and a MODAL form start a job the
# relay bills, a cancel stops one. Only a user who may press reaches them; the sweep
# below proves no other route makes such a call.
PAID = {"task_action", "task_modal", "task_cancel", "create", "create_again"}
PAID_CALLS = ("imagine", "blend", "describe", "shorten", "action", "modal", "cancel")
LOGIN_PAGES = ("/accounts/login/", "/admin/login/")


def test_the_sweep_covers_every_view_of_the_project_and_the_admin():
    names = {route.name for route in ROUTES}
    assert {"home", "task_modal", "task_cancel", "task_image", "admin:index"} <= names
    assert {"task_star", "task_tags", "tasks_bulk", "set_add", "set_restore"} <= names
    assert names >= PUBLIC | CSRF_EXEMPT
    assert len(ROUTES) > 50


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("route", [r for r in ROUTES if r.name not in PUBLIC], ids=lambda r: r.name)
def test_every_route_but_the_public_ones_sends_an_anonymous_visitor_to_log_in(
    client, simulator, route, method
):
    Task.objects.create(id=TASK_ID, status="SUCCESS", prompt="a secret prompt")
    response = getattr(client, method)(route.path)

    if response.status_code in (301, 302):
        assert response["Location"].startswith(LOGIN_PAGES), response["Location"]
    else:  # refused without content
        assert response.status_code in (403, 405), response.status_code
        assert b"a secret prompt" not in response.content
    assert sum(simulator.calls.values()) == 0


def test_every_route_that_starts_paid_jobs_is_in_the_press_only_sweep():
    names = {route.name for route in ROUTES}
    assert names >= PRESS_ONLY
    assert {name for name in names if name.startswith("create")} <= PRESS_ONLY


@pytest.mark.parametrize("route", [r for r in ROUTES if r.name in PRESS_ONLY], ids=lambda r: r.name)
def test_every_route_that_starts_paid_jobs_refuses_someone_who_may_not_press(logged_in, simulator, route):
    Task.objects.create(id=TASK_ID, status="SUCCESS", action="IMAGINE", prompt="a secret prompt")
    data = {"kind": "imagine", "prompt": "a fox", "custom_id": "upsample::1", "changed": "controls"}

    answers = [logged_in.get(route.path).status_code, logged_in.post(route.path, data).status_code]

    assert set(answers) <= {403, 405} and 403 in answers, answers
    assert sum(simulator.calls.values()) == 0


@pytest.fixture
def admin_client_enforcing_csrf(admin_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_user)  # a superuser: may press, may use the admin
    return client


@pytest.mark.parametrize("route", [r for r in ROUTES if r.name not in CSRF_EXEMPT], ids=lambda r: r.name)
def test_every_route_refuses_a_post_without_a_csrf_token(admin_client_enforcing_csrf, simulator, route):
    task = Task.objects.create(id=TASK_ID, status="MODAL", action="CUSTOM_ZOOM", prompt="x")
    task.buttons = [{"customId": "MJ::JOB::upsample::1::abc", "label": "U1"}]
    task.save()
    data = {"custom_id": "MJ::JOB::upsample::1::abc", "prompt": "x", "username": "admin", "password": "x"}

    response = admin_client_enforcing_csrf.post(route.path, data)

    assert response.status_code == 403
    assert b"CSRF verification failed" in response.content
    assert sum(simulator.calls.values()) == 0


def _pressable_task(route):
    """One task every paid route can act on: waiting in MODAL (a form to send, a
    job to cancel), with a button to press; for "run again", a finished imagine."""
    again = route.name == "create_again"
    task = Task.objects.create(
        id=TASK_ID,
        status="SUCCESS" if again else "MODAL",
        action="IMAGINE" if again else "CUSTOM_ZOOM",
        prompt="a calm sea",
    )
    task.buttons = [{"customId": "MJ::JOB::upsample::1::abc", "label": "U1"}]
    task.save()
    # "kind": what the Create page submits; the other routes ignore it.
    return {
        "custom_id": "MJ::JOB::upsample::1::abc",
        "prompt": "a calm sea",
        "zoom": "1.5",
        "kind": "imagine",
    }


def _paid_calls(simulator) -> int:
    return sum(simulator.calls[name] for name in PAID_CALLS)


@pytest.fixture(params=["no permission", "every permission but pressing"])
def non_presser(request, client, django_user_model):
    """A logged-in user who may not press: with no permission at all, or with every
    other permission of the app (a check on the wrong one would let this user through)."""
    from django.contrib.auth.models import Permission

    user = django_user_model.objects.create_user("bob", password="bob-pass-123")
    if request.param != "no permission":
        others = Permission.objects.filter(content_type__app_label="tasks_app").exclude(
            codename="press_button"
        )
        user.user_permissions.set(others)
        assert others.exists()
    client.force_login(user)
    return client


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.name)
def test_no_post_anywhere_makes_the_relay_act_for_a_user_who_may_not_press(non_presser, simulator, route):
    data = _pressable_task(route)

    response = non_presser.post(route.path, data)

    assert _paid_calls(simulator) == 0
    if route.name in PAID:
        assert response.status_code == 403
        assert "Ask an admin for access" in response.content.decode()


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.name)
def test_the_routes_that_make_the_relay_act_are_exactly_the_paid_ones(admin_client, simulator, route):
    """With the permission the same posts do reach the relay: the sweep above is not
    vacuous, and a new route that reaches it must join PAID."""
    data = _pressable_task(route)
    # The question is whether the relay was reached; django-rq's admin pages raise on
    # the sweep's made-up job and worker IDs, which says nothing about the relay.
    admin_client.raise_request_exception = False

    admin_client.post(route.path, data)

    assert (_paid_calls(simulator) > 0) == (route.name in PAID), dict(simulator.calls)


# ---- the relay: a final status is final; the key goes in the one header


@pytest.mark.parametrize("first", ["SUCCESS", "FAILURE", "CANCEL"])
@pytest.mark.parametrize("later", ["SUCCESS", "FAILURE", "CANCEL"])
def test_a_final_task_keeps_its_status_whatever_final_status_a_later_answer_says(first, later):
    services.task_store(records=[relay.normalise_task({"id": TASK_ID, "status": first, "prompt": "a"})])
    services.task_store(records=[relay.normalise_task({"id": TASK_ID, "status": later, "prompt": "b"})])
    task = Task.objects.get(pk=TASK_ID)
    assert task.status == first
    assert task.prompt == ("b" if later == first else "a")


def test_every_call_sends_the_key_as_a_bearer_token_and_in_no_other_header(simulator):
    parent = simulator.add_task(run=0.0)
    simulator.clock.advance(60)
    [record] = relay.list_by_condition([parent])
    relay.fetch(parent)
    answer = relay.submit_action(parent, record.buttons[0].custom_id)
    relay.cancel(answer.task_ids[0])
    relay.submit_modal(parent, prompt="x")

    routes = [route for route, _bearer, _secret in simulator.auth_headers]
    assert routes == ["list", "fetch", "action", "cancel", "modal"]
    headers = {(bearer, secret) for _route, bearer, secret in simulator.auth_headers}
    assert headers == {(f"Bearer {API_KEY}", None)}  # mj-api-secret: never sent
