"""Refreshes that wait for their grant's lock while something else happens, made deterministic on
PostgreSQL (issue 10; rar_provider.oauth.refresh).

A second connection holds the grant's row lock (``SELECT … FOR UPDATE``, as a concurrent refresh,
exchange or revocation would); the refresh requests are sent from threads (each its own database
connection) and wait for it; while they wait, something else commits — another refresh, an RFC 7009
revocation, the user's Revoke; then the lock is released. On PostgreSQL the refresh's first read
then returns the grant as committed but the refresh token as first read: these tests hold the
rotation's conditional ``UPDATE`` and the re-read on the no-rotation path to the same answers as
without a race (found by a hostile review: without the re-read, the FAPI 2.0 path answered 500).

The multi-process races under gunicorn are in tests/test_grant_races.py.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import psycopg
import pytest
from django.db import connection, connections
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import AccessToken, RefreshToken

from rar_provider import fapi
from rar_provider.models import AuthorizationGrant, GrantState

from .conftest import CONFIDENTIAL, post_form
from .test_refresh_rotation import tokens_of
from .test_tokens import introspect, refresh

pytestmark = [pytest.mark.postgresql, pytest.mark.django_db(transaction=True)]

REVOKE_URL = "/oauth/revoke"


def other_connection() -> psycopg.Connection:
    settings = connection.settings_dict
    return psycopg.connect(
        host=settings["HOST"] or "127.0.0.1",
        port=settings["PORT"] or 5432,
        user=settings["USER"],
        password=settings["PASSWORD"] or None,
        dbname=settings["NAME"],
    )


def waiting_for_locks(count: int, timeout: float = 20) -> None:
    """Until ``count`` sessions of this database wait for a row lock."""
    with other_connection() as watcher:
        watcher.autocommit = True
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            (waiting,) = watcher.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                " AND datname = current_database()"
            ).fetchone()
            if waiting >= count:
                return
            time.sleep(0.02)
    raise AssertionError(f"{count} request(s) never waited for the grant's lock")


def while_the_grant_is_locked(requests: list[Callable], meanwhile: Callable[[], object] = lambda: None):
    """Send ``requests`` (each in a thread) while another connection holds the grant's lock; once
    they all wait for it, run ``meanwhile`` (which does not need the lock), then release it.
    Returns the requests' responses, in order, and what ``meanwhile`` returned."""
    grant = AuthorizationGrant.objects.get()
    holder = other_connection()
    holder.execute("SELECT 1 FROM rar_provider_authorizationgrant WHERE id = %s FOR UPDATE", (grant.pk,))
    answers: list = [None] * len(requests)

    def send(number: int) -> None:
        try:
            answers[number] = requests[number]()
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(number,)) for number in range(len(requests))]
    for thread in threads:
        thread.start()
    try:
        waiting_for_locks(len(requests))
        outcome = meanwhile()
    finally:
        holder.commit()
        holder.close()
        for thread in threads:
            thread.join(30)
    return answers, outcome


def json_error(response) -> str:
    assert response.status_code == 400 and response["Content-Type"] == "application/json", response.content
    return response.json()["error"]


def nothing_live() -> bool:
    return not (
        RefreshToken.objects.filter(revoked__isnull=True).exists()
        or AccessToken.objects.filter(expires__gt=timezone.now()).exists()
    )


@pytest.fixture
def browser(load_demo_data, django_user_model) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(django_user_model.objects.get(username="alice"))
    return client


@pytest.fixture(params=["rotation", "no rotation"])
def rotation(request, monkeypatch) -> str:
    """Rotated refresh tokens (the default), or not (the FAPI 2.0 profile's rule for its APIs)."""
    if request.param == "no rotation":
        monkeypatch.setattr(fapi, "rotates_refresh_tokens", lambda resource_server: False)
    return request.param


def test_two_refreshes_of_one_token_queued_on_the_grant(browser):
    tokens = tokens_of(browser)
    answers, _ = while_the_grant_is_locked(
        [
            lambda: refresh(Client(), tokens["refresh_token"]),
            lambda: refresh(Client(), tokens["refresh_token"]),
        ]
    )
    assert sorted(answer.status_code for answer in answers) == [200, 400], [a.content for a in answers]
    loser = next(answer for answer in answers if answer.status_code == 400)
    assert json_error(loser) == "invalid_grant"
    # A rotated refresh token sent again: the whole grant is revoked, and that revocation committed.
    assert AuthorizationGrant.objects.get().state == GrantState.REVOKED
    winner = next(answer for answer in answers if answer.status_code == 200).json()
    assert introspect(browser, winner["access_token"]).json() == {"active": False}
    assert json_error(refresh(browser, winner["refresh_token"])) == "invalid_grant"
    assert nothing_live()


@pytest.mark.parametrize("revoked", ["refresh_token", "access_token"])
def test_a_refresh_waiting_while_rfc7009_revokes_its_tokens_is_refused(browser, rotation, revoked):
    """RFC 7009 revocation does not take the grant's lock: it commits while the refresh waits. The
    refresh then answers as it would have after it: ``400 invalid_grant`` JSON, nothing issued."""
    tokens = tokens_of(browser)

    def revoke():
        data = {"token": tokens[revoked], "token_type_hint": revoked}
        return post_form(Client(), REVOKE_URL, data, **CONFIDENTIAL)

    (answer,), revocation = while_the_grant_is_locked(
        [lambda: refresh(Client(), tokens["refresh_token"])], revoke
    )
    assert revocation.status_code == 200
    assert json_error(answer) == "invalid_grant"
    assert nothing_live()
    assert json_error(refresh(browser, tokens["refresh_token"])) == "invalid_grant"


def test_a_refresh_waiting_while_the_user_revokes_the_grant_leaves_nothing_live(browser, rotation):
    tokens = tokens_of(browser)
    grant = AuthorizationGrant.objects.get()
    (answer, revoked), _ = while_the_grant_is_locked(
        [
            lambda: refresh(Client(), tokens["refresh_token"]),
            lambda: browser.post(f"/oauth/authorizations/{grant.pk}/revoke"),
        ]
    )
    assert revoked.status_code == 302
    assert answer.status_code in (200, 400) and answer["Content-Type"] == "application/json", answer.content
    assert AuthorizationGrant.objects.get().state == GrantState.REVOKED
    assert nothing_live()
    if answer.status_code == 200:  # it went first: what it issued was revoked with the grant
        assert introspect(browser, answer.json()["access_token"]).json() == {"active": False}
