"""One grant, one lifecycle (issue 10 points 1–3): the states a grant moves through, only forward;
revocation ends everything under it at once; a conflict the database reports is retried, never a
500; and the details are validated once per HTTP request.
"""

from __future__ import annotations

import json
from unittest import mock

import pytest
from django.db import OperationalError, connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone
from oauth2_provider.models import AccessToken, Grant, RefreshToken

from rar_provider.grants import lifecycle
from rar_provider.models import (
    AuthorizationGrant,
    CodeRedemption,
    GrantState,
    IssuedAccessToken,
    IssuedCode,
    IssuedRefreshToken,
    sha256_hex,
)
from rar_provider.oauth import pipeline

from .conftest import (
    AUTHORIZE_URL,
    CONFIDENTIAL,
    MONEY_TRANSFER,
    TOKEN_URL,
    authorize_query,
    consent_transaction,
    exchange,
    post_form,
    push,
    pushed_request_uri,
    redirect_params,
)

pytestmark = pytest.mark.django_db

ACCOUNT_INFORMATION = {"type": "account_information", "actions": ["list_accounts", "read_balances"]}


def consent_page(client):
    return client.get(AUTHORIZE_URL, authorize_query(pushed_request_uri(client, [MONEY_TRANSFER])))


def decide(client, page, decision="allow"):
    return redirect_params(
        client.post(AUTHORIZE_URL, {"transaction": consent_transaction(page), "decision": decision})
    )


def refresh(client, refresh_token, **extra):
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token, **extra}
    return post_form(client, TOKEN_URL, data, **CONFIDENTIAL)


def the_grant() -> AuthorizationGrant:
    return AuthorizationGrant.objects.get()


def test_a_grant_moves_forward_through_every_state(alice_client):
    page = consent_page(alice_client)
    assert the_grant().state == GrantState.PENDING  # the page opened it; nothing is issued yet
    code = decide(alice_client, page)["code"]
    grant = the_grant()
    assert grant.state == GrantState.CODE_ISSUED and grant.decided is not None
    assert grant.authorization_details == [MONEY_TRANSFER]
    assert IssuedCode.objects.get(grant=grant).code.code == code
    tokens = exchange(alice_client, code).json()
    grant.refresh_from_db()
    assert grant.state == GrantState.REDEEMED and grant.used is not None
    assert IssuedAccessToken.objects.get(grant=grant).access_token.token == tokens["access_token"]
    assert IssuedRefreshToken.objects.get(grant=grant).refresh_token.token == tokens["refresh_token"]
    assert lifecycle.revoke(grant) is True
    grant.refresh_from_db()
    assert grant.state == GrantState.REVOKED and grant.revoked is not None
    assert not AccessToken.objects.exists() and not RefreshToken.objects.filter(revoked__isnull=True).exists()


def test_a_denied_grant_is_final(alice_client):
    page = consent_page(alice_client)
    assert decide(alice_client, page, "deny")["error"] == "access_denied"
    assert the_grant().state == GrantState.DENIED
    assert lifecycle.revoke(the_grant()) is False  # nothing to revoke, and denied stays denied
    assert the_grant().state == GrantState.DENIED


@pytest.mark.parametrize("backwards", [GrantState.PENDING, GrantState.APPROVED, GrantState.CODE_ISSUED])
def test_states_never_move_backwards_even_from_a_stale_copy(alice_client, backwards):
    code = decide(alice_client, consent_page(alice_client))["code"]
    stale = the_grant()  # read while the code is outstanding
    exchange(alice_client, code)
    assert lifecycle.advance(stale, backwards) is False
    assert the_grant().state == GrantState.REDEEMED
    assert lifecycle.advance(the_grant(), GrantState.REVOKED) is True
    for state in GrantState.values:
        assert lifecycle.advance(the_grant(), state) is False  # revoked is final
    with pytest.raises(lifecycle.TransitionRefused):
        lifecycle.advance(the_grant(), "unknown")


def test_the_database_refuses_an_unknown_state(alice_client):
    from django.db import IntegrityError, transaction

    consent_page(alice_client)
    with pytest.raises(IntegrityError), transaction.atomic():
        AuthorizationGrant.objects.update(state="approved-ish")


def test_a_revoked_grant_refuses_its_refresh_token_and_reissues_nothing(alice_client):
    tokens = exchange(alice_client, decide(alice_client, consent_page(alice_client))["code"]).json()
    lifecycle.revoke(the_grant())
    response = refresh(alice_client, tokens["refresh_token"])
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"
    assert not AccessToken.objects.exists()


def test_a_code_whose_grant_was_revoked_cannot_be_exchanged(alice_client):
    code = decide(alice_client, consent_page(alice_client))["code"]
    # Revoked while the code is outstanding (the user pressed Revoke before the client exchanged it).
    AuthorizationGrant.objects.update(state=GrantState.REVOKED, revoked=timezone.now())
    response = exchange(alice_client, code)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"
    assert "revoked" in response.json()["error_description"]
    assert not AccessToken.objects.exists()


def test_a_replay_found_while_saving_tokens_is_revoked_and_the_revocation_commits(alice_client):
    """The replay found when the redemption record is written (two exchanges of one code that both
    got past the code's read: the other one recorded it first) is found inside DOT's savepoint; the
    revocation runs after that savepoint rolled back, so it commits with the invalid_grant answer."""
    first = exchange(alice_client, decide(alice_client, consent_page(alice_client))["code"]).json()
    earlier = CodeRedemption.objects.get()
    second_code = decide(alice_client, consent_page(alice_client))["code"]
    # As if a concurrent exchange of second_code had recorded its redemption first.
    CodeRedemption.objects.create(
        code_hash=sha256_hex(second_code),
        application=earlier.application,
        grant=earlier.grant,
        access_token=earlier.access_token,
        token_family=earlier.token_family,
    )
    response = exchange(alice_client, second_code)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant", response.content
    assert "already used" in response.json()["error_description"]
    earlier.grant.refresh_from_db()
    assert earlier.grant.state == GrantState.REVOKED
    assert not AccessToken.objects.filter(token_checksum=sha256_hex(first["access_token"])).exists()
    assert refresh(alice_client, first["refresh_token"]).json()["error"] == "invalid_grant"
    assert AccessToken.objects.count() == 0  # nothing of the second exchange was kept either


# -- one validation per HTTP request (point 3) -------------------------------------------------------


@pytest.fixture
def parses(monkeypatch):
    """How many times authorization_details were parsed and validated, per request."""
    calls = []
    real = pipeline.parse_authorization_details

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline, "parse_authorization_details", counting)
    return calls


def test_details_are_parsed_once_per_http_request(alice_client, parses):
    uri = push(alice_client, [MONEY_TRANSFER]).json()["request_uri"]
    assert len(parses) == 1  # at PAR
    page = alice_client.get(AUTHORIZE_URL, authorize_query(uri))
    assert len(parses) == 2  # once at the front channel
    assert "code" in decide(alice_client, page)
    # Once for the decision: oauthlib's second validation pass (the code being issued) reuses it.
    assert len(parses) == 3


# -- conflicts are retried, never a 500 (point 1) ----------------------------------------------------


def deadlock() -> OperationalError:
    error = OperationalError("deadlock detected")
    error.__cause__ = type("Cause", (Exception,), {"sqlstate": "40P01"})()
    return error


@pytest.mark.django_db(transaction=True)
def test_a_deadlock_is_retried_and_the_exchange_succeeds(load_demo_data, alice_client):
    code = decide(alice_client, consent_page(alice_client))["code"]
    real = lifecycle.lock_for_code
    failures = [deadlock()]

    def flaky(*args, **kwargs):
        if failures:
            raise failures.pop()
        return real(*args, **kwargs)

    with mock.patch.object(lifecycle, "lock_for_code", side_effect=flaky):
        response = exchange(alice_client, code)
    assert response.status_code == 200, response.content
    assert the_grant().state == GrantState.REDEEMED and AccessToken.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_conflict_that_persists_is_503_json_and_changes_nothing(load_demo_data, alice_client):
    code = decide(alice_client, consent_page(alice_client))["code"]

    def always(*args, **kwargs):
        raise deadlock()

    with mock.patch.object(lifecycle, "lock_for_code", side_effect=always):
        response = exchange(alice_client, code)
    assert response.status_code == 503 and response["Retry-After"] == "1"
    assert response.json()["error"] == "temporarily_unavailable"
    assert the_grant().state == GrantState.CODE_ISSUED and Grant.objects.count() == 1
    assert exchange(alice_client, code).status_code == 200  # the code is still good


# -- migration 0009 keeps what was issued (point 1) ----------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_migration_0009_turns_consents_into_grants_and_keeps_the_links(load_demo_data):
    before = [("rar_provider", "0008_one_time_grants")]
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes("rar_provider")
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    Application = old.get_model("oauth2_provider", "Application")
    client = Application.objects.get(client_id="demo-client")
    alice = old.get_model("auth", "User").objects.get(username="alice")
    api = old.get_model("rar_provider", "ResourceServer").objects.get(identifier="urn:demo:payments")
    code = Grant.objects.create(  # DOT's own model: its table is not migrated back
        user_id=alice.pk,
        application_id=client.pk,
        code="c0de",
        expires=timezone.now() + timezone.timedelta(minutes=1),
        redirect_uri="http://127.0.0.1:8000/demo/callback/",
        scope="",
        code_challenge="",
        code_challenge_method="",
    )
    consent = old.get_model("rar_provider", "Consent").objects.create(
        user_id=alice.pk,
        application=client,
        resource_server=api,
        authorization_details=[MONEY_TRANSFER],
        types=" money_transfer ",
    )
    old.get_model("rar_provider", "CodeDetails").objects.create(
        grant_id=code.pk, resource_server=api, authorization_details=[MONEY_TRANSFER], grant_identifier="g-1"
    )
    old.get_model("rar_provider", "ConsentIssue").objects.create(consent=consent, grant_id=code.pk)
    executor = MigrationExecutor(connection)
    executor.migrate(latest)
    grant = AuthorizationGrant.objects.get(pk=consent.pk)
    assert grant.grant_id == "g-1" and grant.state == GrantState.CODE_ISSUED
    issued = IssuedCode.objects.get(code_id=code.pk)
    assert issued.grant == grant and issued.authorization_details == [MONEY_TRANSFER]


# -- statements per request on the hot paths (issue 10 point 7; benchmarks/queries.py prints them) ----


def data_statements(queries) -> int:
    control = ("BEGIN", "COMMIT", "SAVEPOINT", "RELEASE", "ROLLBACK")
    return sum(not q["sql"].lstrip().upper().startswith(control) for q in queries)


def test_push_decision_exchange_and_refresh_stay_within_their_statement_budgets(alice_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as pushing:
        uri = push(alice_client, [MONEY_TRANSFER, ACCOUNT_INFORMATION]).json()["request_uri"]
    page = alice_client.get(AUTHORIZE_URL, authorize_query(uri))
    with CaptureQueriesContext(connection) as deciding:
        code = decide(alice_client, page)["code"]
    with CaptureQueriesContext(connection) as exchanging:
        tokens = exchange(alice_client, code).json()
    refreshes = []
    for narrowed in (None, [ACCOUNT_INFORMATION]):  # a plain refresh, then a narrowing one (§6)
        extra = {"authorization_details": json.dumps(narrowed)} if narrowed else {}
        with CaptureQueriesContext(connection) as refreshing:
            tokens = refresh(alice_client, tokens["refresh_token"], **extra).json()
        assert tokens["authorization_details"] == (narrowed or [MONEY_TRANSFER, ACCOUNT_INFORMATION])
        refreshes.append(data_statements(refreshing))
    assert data_statements(pushing) <= 3
    assert data_statements(deciding) <= 11
    assert data_statements(exchanging) <= 12
    assert refreshes == [8, 8]
