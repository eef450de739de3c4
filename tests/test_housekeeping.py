"""Bounded growth (issue 11, point 6): `rar_clear_expired` prunes everything that ended, in batches,
from several nodes at once, and every lookup on a hot path has an index.

The clock is moved by passing ``now`` to :func:`rar_provider.housekeeping.prune` (what the command runs).
"""

from __future__ import annotations

import json
import re
import threading
from datetime import timedelta
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application, RefreshToken

from rar_provider.housekeeping import delete_in_batches, prune
from rar_provider.models import AuthorizationGrant, CodeRedemption, PushedAuthorizationRequest

from .conftest import (
    AUTHORIZE_URL,
    MONEY_TRANSFER,
    approve,
    authorize_query,
    consent_transaction,
    exchange,
    push,
    pushed_request_uri,
    redirect_params,
)
from .test_rar_endpoints import ACCOUNT_INFORMATION
from .test_tokens import client_credentials, introspect, refresh

DAY = timedelta(days=1)
#: Longer than every lifetime and retention period the tests use (consents last 90 days, kept 30 more).
LATER = timedelta(days=200)
AUTHORIZATIONS_URL = "/oauth/authorizations/"


@pytest.fixture
def idle_refresh_expiry(settings):
    """DOT's REFRESH_TOKEN_EXPIRE_SECONDS: without it an unused refresh token never ends."""
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "REFRESH_TOKEN_EXPIRE_SECONDS": 7 * 24 * 3600}


def row_counts() -> dict[str, int]:
    """Rows of every table of rar_provider and DOT."""
    return {
        model._meta.label: model._base_manager.count()
        for app in ("rar_provider", "oauth2_provider")
        for model in apps.get_app_config(app).get_models()
    }


def full_flow(client) -> dict:
    """PAR → consent → code exchange → refresh (the rotated refresh token is revoked)."""
    tokens = exchange(client, redirect_params(approve(client, pushed_request_uri(client)))["code"]).json()
    refreshed = refresh(client, tokens["refresh_token"])
    assert refreshed.status_code == 200, refreshed.content
    return refreshed.json()


def run_flows(client, flows: int = 4) -> dict:
    """Every kind of row: used, unused and replayed codes, rotated and revoked tokens, consents."""
    last = {}
    for _ in range(flows):
        last = full_flow(client)
    pushed_request_uri(client)  # pushed, never used
    redirect_params(approve(client, pushed_request_uri(client)))  # a code never exchanged
    code = redirect_params(approve(client, pushed_request_uri(client)))["code"]
    assert exchange(client, code).status_code == 200
    assert exchange(client, code).json()["error"] == "invalid_grant"  # replayed: its tokens are revoked
    exchange(client, redirect_params(approve(client, pushed_request_uri(client)))["code"])
    client.post(f"{AUTHORIZATIONS_URL}{AuthorizationGrant.objects.order_by('-pk').first().pk}/revoke")
    response = client_credentials(client, authorization_details=json.dumps([ACCOUNT_INFORMATION]))
    assert response.status_code == 200, response.content
    return last


@pytest.mark.django_db
def test_prune_returns_every_table_to_its_baseline(alice_client, idle_refresh_expiry):
    baseline = row_counts()
    last = run_flows(alice_client)
    grown = row_counts()
    assert all(
        grown[label] > baseline[label]
        for label in ("rar_provider.AuthorizationGrant", "oauth2_provider.RefreshToken")
    )

    # Now: nothing live is touched; the last refresh token and its access token still work.
    prune()
    assert introspect(alice_client, last["access_token"]).json()["active"] is True
    assert refresh(alice_client, last["refresh_token"]).status_code == 200
    assert AuthorizationGrant.objects.count() == grown["rar_provider.AuthorizationGrant"]

    result = prune(now=timezone.now() + LATER)
    assert row_counts() == baseline
    assert sum(result.counts.values()) > 0
    assert prune(now=timezone.now() + LATER).counts == dict.fromkeys(result.counts, 0)  # idempotent


@pytest.mark.django_db
def test_revoked_refresh_token_is_kept_for_the_replay_window(alice_client, settings):
    settings.RAR_PROVIDER = {**settings.RAR_PROVIDER, "REPLAY_WINDOW": 3600}
    full_flow(alice_client)
    rotated = RefreshToken.objects.get(revoked__isnull=False)
    prune(now=timezone.now() + timedelta(minutes=59))
    assert RefreshToken.objects.filter(pk=rotated.pk).exists()
    prune(now=timezone.now() + timedelta(minutes=61))
    assert not RefreshToken.objects.filter(pk=rotated.pk).exists()
    assert RefreshToken.objects.filter(revoked__isnull=True).count() == 1  # the live one stays


@pytest.mark.django_db
def test_reuse_protection_keeps_a_revoked_token_while_its_family_lives(alice_client, settings):
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "REFRESH_TOKEN_REUSE_PROTECTION": True}
    full_flow(alice_client)
    ended = AccessToken.objects.get(refresh_token__revoked__isnull=False)  # ended by the rotation
    prune(now=timezone.now() + 2 * DAY)
    rotated = RefreshToken.objects.get(revoked__isnull=False)  # a replay of it must revoke the family
    assert rotated.access_token is None and not AccessToken.objects.filter(pk=ended.pk).exists()
    RefreshToken.objects.filter(revoked__isnull=True).update(revoked=timezone.now())
    prune(now=timezone.now() + 2 * DAY)
    assert not RefreshToken.objects.filter(pk=rotated.pk).exists()


@pytest.mark.django_db
def test_ended_consent_is_kept_for_the_retention_period_then_deleted(alice_client, settings):
    settings.RAR_PROVIDER = {**settings.RAR_PROVIDER, "CONSENT_RETENTION": 10 * 24 * 3600}
    full_flow(alice_client)
    consent = AuthorizationGrant.objects.get()
    alice_client.post(f"{AUTHORIZATIONS_URL}{consent.pk}/revoke")
    prune(now=timezone.now() + 9 * DAY)
    listed = alice_client.get(AUTHORIZATIONS_URL).context["entries"]
    # Still in the user's list, as revoked.
    assert [(entry.grant.pk, entry.state) for entry in listed] == [(consent.pk, "revoked")]
    prune(now=timezone.now() + 11 * DAY)
    assert not AuthorizationGrant.objects.given().exists()


@pytest.mark.django_db
def test_expired_consent_stays_while_a_token_issued_under_it_lives(alice_client):
    full_flow(alice_client)  # DOT's default: an unused refresh token never ends
    prune(now=timezone.now() + LATER)
    assert AuthorizationGrant.objects.count() == 1
    assert RefreshToken.objects.filter(revoked__isnull=True).count() == 1


@pytest.mark.django_db
def test_command_reports_each_kind_and_checks_its_batch_size(alice_client):
    pushed_request_uri(alice_client)
    PushedAuthorizationRequest.objects.update(expires_at=timezone.now() - DAY)
    out = StringIO()
    call_command("rar_clear_expired", "--batch-size", "1", stdout=out)
    assert "Deleted 1 expired pushed authorization request(s)." in out.getvalue().splitlines()
    assert "Deleted 0 ended grant(s) past the retention period." in out.getvalue().splitlines()
    with pytest.raises(CommandError, match="at least 1"):
        call_command("rar_clear_expired", "--batch-size", "0")


@pytest.mark.postgresql  # row locks; SQLite's file version is in test_sqlite_concurrency.py
@pytest.mark.django_db(transaction=True)
def test_two_nodes_pruning_at_once_delete_each_row_once(load_demo_data):
    application = Application.objects.get(client_id="demo-client")
    expired = timezone.now() - DAY
    PushedAuthorizationRequest.objects.bulk_create(
        PushedAuthorizationRequest(
            reference_hash=f"{n:064x}", application=application, parameters=[], expires_at=expired
        )
        for n in range(60)
    )
    start_together = threading.Barrier(2)
    deleted, failures = [], []

    def node():
        try:
            start_together.wait(timeout=30)
            deleted.append(delete_in_batches(PushedAuthorizationRequest.objects.all(), batch_size=7))
        except Exception as exc:  # noqa: BLE001 - reported below
            failures.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=node) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    assert sum(deleted) == 60
    assert not PushedAuthorizationRequest.objects.exists()


def test_batch_size_must_be_positive():
    with pytest.raises(ValueError, match="at least 1"):
        delete_in_batches(PushedAuthorizationRequest.objects.none(), batch_size=0)


# -- an index for every lookup on a hot path ---------------------------------------------------------------

#: A column compared with a value (not with another column, as a join or a correlated subquery does).
_PREDICATE = re.compile(r'"(\w+)"\."(\w+)" (?:<=|>=|=|IN|<|>) (?!")')


def indexed_columns(table: str) -> set[str]:
    """Columns that lead an index, a unique constraint or the primary key of ``table``."""
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return {
        c["columns"][0]
        for c in constraints.values()
        if c["columns"] and (c["index"] or c["unique"] or c["primary_key"])
    }


def unindexed_lookups(queries) -> list[str]:
    """Queries none of whose WHERE columns compared with a value leads an index.

    Django's own session table is left out.
    """
    missing = []
    for query in queries:
        sql = query["sql"]
        where = sql.split(" WHERE ", 1)[1] if " WHERE " in sql else ""
        columns = {
            (table, column) for table, column in _PREDICATE.findall(where) if table != "django_session"
        }
        if columns and not any(column in indexed_columns(table) for table, column in columns):
            missing.append(sql)
    return missing


@pytest.mark.django_db
def test_the_index_check_finds_an_unindexed_lookup():
    table = '"rar_provider_authorizationgrant"'
    unindexed = f"SELECT 1 FROM {table} WHERE {table}.\"scope\" = 'read'"
    correlated = (
        f'{unindexed} AND EXISTS(SELECT 1 WHERE "rar_provider_issuedcode"."authorization_details" = "x"."id")'
    )
    indexed = f"SELECT 1 FROM {table} WHERE {table}.\"revoked\" < '2026-01-01'"
    assert unindexed_lookups([{"sql": unindexed}, {"sql": correlated}, {"sql": indexed}]) == [
        unindexed,
        correlated,
    ]


@pytest.mark.django_db
def test_every_hot_path_lookup_has_an_index(alice_client):
    with CaptureQueriesContext(connection) as captured:
        request_uri = push(alice_client, [MONEY_TRANSFER]).json()["request_uri"]
        page = alice_client.get(AUTHORIZE_URL, authorize_query(request_uri))
        decided = alice_client.post(
            AUTHORIZE_URL, {"transaction": consent_transaction(page), "decision": "allow"}
        )
        code = redirect_params(decided)["code"]
        tokens = exchange(alice_client, code).json()
        introspect(alice_client, tokens["access_token"])
        refreshed = refresh(alice_client, tokens["refresh_token"]).json()
        introspect(alice_client, refreshed["refresh_token"], token_type_hint="refresh_token")
        assert exchange(alice_client, code).json()["error"] == "invalid_grant"  # a replay
        alice_client.get(AUTHORIZATIONS_URL)
        alice_client.post(f"{AUTHORIZATIONS_URL}{AuthorizationGrant.objects.get().pk}/revoke")
    housekeeping = CaptureQueriesContext(connection)
    with housekeeping:
        prune(now=timezone.now() + LATER)
    rar_prune_queries = [
        q for q in housekeeping.captured_queries if '"rar_provider_' in q["sql"].split(" WHERE ")[0]
    ]
    assert len(captured.captured_queries) > 40
    assert unindexed_lookups(captured.captured_queries) == []
    assert unindexed_lookups(rar_prune_queries) == []
    assert CodeRedemption.objects.count() == 0
