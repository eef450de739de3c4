"""One-time things are one-time (issue 9, kind 3), sequential replays through the real endpoints:
request_uris, consent decisions, authorization codes and refresh tokens. The rule is the table
"One-time things are one-time" in docs/protocol.md. (Concurrent replays are the one-grant issue's.)
"""

from __future__ import annotations

import pytest
from oauth2_provider.models import AccessToken, Grant, RefreshToken

from rar_provider.models import AuthorizationGrant, GrantState

from .conftest import (
    AUTHORIZE_URL,
    CONFIDENTIAL,
    REDIRECT_URI,
    authorize_query,
    consent_transaction,
    post_form,
    pushed_request_uri,
    redirect_params,
    request_params,
)
from .strict_helpers import REVOKE_URL, assert_oauth_json_error, code_for, introspect, refresh, token_request

pytestmark = pytest.mark.django_db


def front_channel_page(client):
    return client.get(AUTHORIZE_URL, request_params(scope="profile"))


def code_exchange(client) -> dict:
    """The token request that exchanges a fresh code (PKCE) of ``client``'s user."""
    code, verifier = code_for(client)
    return {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier,
    }


def test_request_uri_is_used_once(alice_client):
    request_uri = pushed_request_uri(alice_client)
    page = alice_client.get(AUTHORIZE_URL, authorize_query(request_uri))
    alice_client.post(AUTHORIZE_URL, {"transaction": consent_transaction(page), "decision": "allow"})
    again = redirect_params(alice_client.get(AUTHORIZE_URL, authorize_query(request_uri)))
    assert again["error"] == "invalid_request_uri"


@pytest.mark.parametrize("first, second", [("allow", "allow"), ("deny", "allow"), ("allow", "deny")])
def test_a_consent_page_is_decided_once_without_par(alice_client, first, second):
    transaction = consent_transaction(front_channel_page(alice_client))
    decided = redirect_params(
        alice_client.post(AUTHORIZE_URL, {"transaction": transaction, "decision": first})
    )
    assert ("code" in decided) == (first == "allow")
    replay = redirect_params(
        alice_client.post(AUTHORIZE_URL, {"transaction": transaction, "decision": second})
    )
    assert replay["error"] == "invalid_request"
    assert "already answered" in replay["error_description"]
    assert "code" not in replay
    assert Grant.objects.count() == (1 if first == "allow" else 0)
    # One page, one grant, decided once.
    decided_grant = AuthorizationGrant.objects.get()
    assert decided_grant.state == (GrantState.CODE_ISSUED if first == "allow" else GrantState.DENIED)


def test_a_reload_before_deciding_still_works(alice_client):
    stale = consent_transaction(front_channel_page(alice_client))
    fresh = consent_transaction(front_channel_page(alice_client))  # the user reloaded the page
    assert stale != fresh
    assert "code" in redirect_params(
        alice_client.post(AUTHORIZE_URL, {"transaction": fresh, "decision": "allow"})
    )


def test_a_consent_page_with_par_is_decided_once(alice_client):
    request_uri = pushed_request_uri(alice_client)
    transaction = consent_transaction(alice_client.get(AUTHORIZE_URL, authorize_query(request_uri)))
    alice_client.post(AUTHORIZE_URL, {"transaction": transaction, "decision": "allow"})
    replay = redirect_params(
        alice_client.post(AUTHORIZE_URL, {"transaction": transaction, "decision": "allow"})
    )
    assert replay["error"] == "invalid_request_uri"
    assert Grant.objects.count() == 1


def test_a_code_is_used_once_and_its_replay_revokes_its_tokens(alice_client):
    data = code_exchange(alice_client)
    issued = token_request(alice_client, data).json()
    assert_oauth_json_error(token_request(alice_client, data), 400, "invalid_grant", mentions="already used")
    assert introspect(alice_client, issued["access_token"]).json() == {"active": False}
    assert_oauth_json_error(refresh(alice_client, issued["refresh_token"]), 400, "invalid_grant")


def test_a_refresh_token_is_used_once_and_its_replay_revokes_the_family(alice_client):
    data = code_exchange(alice_client)
    first = token_request(alice_client, data).json()
    second = refresh(alice_client, first["refresh_token"]).json()
    third = refresh(alice_client, second["refresh_token"]).json()
    assert_oauth_json_error(refresh(alice_client, first["refresh_token"]), 400, "invalid_grant")
    assert_oauth_json_error(refresh(alice_client, third["refresh_token"]), 400, "invalid_grant")
    assert not AccessToken.objects.exists()
    assert not RefreshToken.objects.filter(revoked__isnull=True).exists()


def test_a_revoked_refresh_token_sent_again_revokes_the_family(alice_client):
    data = code_exchange(alice_client)
    first = token_request(alice_client, data).json()
    second = refresh(alice_client, first["refresh_token"]).json()
    assert (
        post_form(alice_client, REVOKE_URL, {"token": first["access_token"]}, **CONFIDENTIAL).status_code
        == 200
    )
    # first's refresh token is rotated; presenting it again is a replay, whatever happened since.
    assert_oauth_json_error(refresh(alice_client, first["refresh_token"]), 400, "invalid_grant")
    assert introspect(alice_client, second["access_token"]).json() == {"active": False}


def test_clear_expired_deletes_undecided_and_denied_grants_past_the_consent_window(alice_client):
    from datetime import timedelta
    from io import StringIO

    from django.core.management import call_command
    from django.utils import timezone

    transaction = consent_transaction(front_channel_page(alice_client))
    alice_client.post(AUTHORIZE_URL, {"transaction": transaction, "decision": "deny"})
    consent_transaction(front_channel_page(alice_client))  # a page left open: a pending grant
    assert sorted(AuthorizationGrant.objects.values_list("state", flat=True)) == ["denied", "pending"]
    AuthorizationGrant.objects.update(created=timezone.now() - timedelta(days=1))
    consent_transaction(front_channel_page(alice_client))  # a fresh page: its grant stays
    call_command("rar_clear_expired", stdout=StringIO())
    assert list(AuthorizationGrant.objects.values_list("state", flat=True)) == ["pending"]
