"""Login throttling (django-axes): per username and address, cooling off by itself."""

import time
from datetime import timedelta

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

ATTACKER = "203.0.113.7"


def _login(client, username, password, address=ATTACKER, **headers):
    return client.post(
        reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address, **headers
    )


def test_eleven_wrong_passwords_lock_that_user_out_from_that_address_only(client, user, django_user_model):
    django_user_model.objects.create_user("bob", password="bob-pass-123")
    answers = [_login(client, "alice", f"wrong-{i}").status_code for i in range(11)]
    assert answers == [200] * 9 + [429] * 2  # the form again; the tenth failure locks

    refused = _login(client, "alice", "alice-pass-123")
    assert refused.status_code == 429
    assert "Too many failed logins" in refused.content.decode()
    assert "_auth_user_id" not in client.session

    assert _login(client, "bob", "bob-pass-123").status_code == 302  # same address, other user
    client.logout()
    assert _login(client, "alice", "alice-pass-123", address="198.51.100.2").status_code == 302


def test_a_lockout_cools_off_by_itself(client, user, settings):
    settings.AXES_COOLOFF_TIME = timedelta(seconds=1)
    for i in range(10):
        _login(client, "alice", f"wrong-{i}")
    assert _login(client, "alice", "alice-pass-123").status_code == 429
    time.sleep(1.5)
    assert _login(client, "alice", "alice-pass-123").status_code == 302


def test_the_lockout_page_speaks_chinese_too(client, user):
    for i in range(10):
        _login(client, "alice", f"wrong-{i}")
    page = _login(client, "alice", "alice-pass-123", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 429
    assert "登录失败次数过多" in page.content.decode()
