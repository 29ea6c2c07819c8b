"""Login throttling (django-axes): per username and address, cooling off by itself."""

import time
from datetime import timedelta

import pytest
from django.urls import reverse

from mjdash.throttle import client_address

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


PROXY = "10.0.0.2"


def _via_proxy(client, username, password, forwarded, **headers):
    """A login through the TLS proxy: it connects from PROXY and appends the address it saw."""
    return _login(client, username, password, address=PROXY, HTTP_X_FORWARDED_FOR=forwarded, **headers)


def test_behind_a_trusted_proxy_lockouts_key_on_the_client_not_the_proxy(client, user, settings):
    settings.MJ_TRUSTED_PROXIES = ["10.0.0.0/24"]
    # The attacker writes a header of their own; the proxy appends the address it saw.
    for i in range(10):
        _via_proxy(client, "alice", f"wrong-{i}", f"198.51.100.{i}, {ATTACKER}")
    assert _via_proxy(client, "alice", "alice-pass-123", f"192.0.2.99, {ATTACKER}").status_code == 429

    elsewhere = _via_proxy(client, "alice", "alice-pass-123", "198.51.100.2")
    assert elsewhere.status_code == 302  # the same proxy, another client: not locked out


def test_an_untrusted_senders_forwarded_for_is_ignored(client, user, settings):
    settings.MJ_TRUSTED_PROXIES = ["10.0.0.0/24"]
    for i in range(10):  # a new made-up client address each time
        _login(client, "alice", f"wrong-{i}", HTTP_X_FORWARDED_FOR=f"198.51.100.{i}")
    assert _login(client, "alice", "alice-pass-123", HTTP_X_FORWARDED_FOR="192.0.2.1").status_code == 429


def test_without_trusted_proxies_the_header_is_ignored_even_from_the_proxy(client, user):
    for i in range(10):
        _via_proxy(client, "alice", f"wrong-{i}", f"198.51.100.{i}")
    assert _via_proxy(client, "alice", "alice-pass-123", "192.0.2.1").status_code == 429  # all one address


def test_spraying_passwords_over_many_usernames_locks_out_the_address(client, user, settings):
    settings.MJ_LOGIN_ADDRESS_FAILURE_LIMIT = 20
    settings.MJ_TRUSTED_PROXIES = ["10.0.0.2"]
    answers = [_via_proxy(client, f"user{i}", "password1", ATTACKER).status_code for i in range(20)]
    assert answers == [200] * 19 + [429]  # one try per username: no pair comes near its limit

    refused = _via_proxy(client, "alice", "alice-pass-123", ATTACKER)
    assert refused.status_code == 429 and "_auth_user_id" not in client.session
    assert "from your address, whatever the username" in refused.content.decode()
    chinese = _via_proxy(client, "alice", "alice-pass-123", ATTACKER, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert "无论用户名" in chinese.content.decode()
    assert _via_proxy(client, "alice", "alice-pass-123", "198.51.100.2").status_code == 302


@pytest.mark.parametrize(
    ("remote", "forwarded", "expected"),
    [
        ("203.0.113.7", "198.51.100.1", "203.0.113.7"),  # not a proxy: header ignored
        ("10.0.0.2", "198.51.100.1", "198.51.100.1"),
        ("10.0.0.2", "198.51.100.1, 10.0.0.3", "198.51.100.1"),  # two trusted hops
        ("10.0.0.2", "1.2.3.4, 198.51.100.1", "198.51.100.1"),  # the client's own entry, left, is skipped
        ("10.0.0.2", "not-an-ip, 198.51.100.1", "198.51.100.1"),
        ("10.0.0.2", "198.51.100.1, garbage", "10.0.0.2"),  # the proxy wrote nonsense: the proxy
        ("10.0.0.2", "[2001:db8::1]:443", "2001:db8::1"),
        ("10.0.0.2", "198.51.100.1:5123", "198.51.100.1"),
        ("10.0.0.2", "", "10.0.0.2"),
    ],
)
def test_the_client_address_is_the_rightmost_hop_that_is_not_a_trusted_proxy(
    rf, settings, remote, forwarded, expected
):
    settings.MJ_TRUSTED_PROXIES = ["10.0.0.0/24"]
    request = rf.get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert client_address(request) == expected
