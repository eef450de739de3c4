"""The refresh token's rotation (RFC 6749 §6, RFC 9700 §4.14.2; rar_provider.oauth.refresh): every
path through the real token endpoint — ours for a live refresh token issued under a grant (eight
statements, tests/test_grant_lifecycle.py), DOT's for the rest — and what each leaves behind.

The races (two refreshes of one token at once, a revocation racing a refresh) run as multi-process
tests in tests/test_grant_races.py.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.hashers import make_password
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application, RefreshToken

from rar_provider.models import AuthorizationGrant, GrantState, sha256_hex

from .conftest import (
    MONEY_TRANSFER,
    REDIRECT_URI,
    approve,
    basic,
    exchange,
    pushed_request_uri,
    redirect_params,
)
from .test_tokens import introspect, refresh

pytestmark = pytest.mark.django_db


def tokens_of(client) -> dict:
    code = redirect_params(approve(client, pushed_request_uri(client, [MONEY_TRANSFER])))["code"]
    response = exchange(client, code)
    assert response.status_code == 200, response.content
    return response.json()


def row(token: str, model=RefreshToken):
    return model.objects.get(token_checksum=sha256_hex(token))


def error_of(response, status=400) -> tuple[int, str, str]:
    body = response.json()
    assert response.status_code == status, body
    return body["error"], body.get("error_description", "")


def test_a_rotation_revokes_the_presented_token_and_ends_its_access_token(alice_client):
    first = tokens_of(alice_client)
    second = refresh(alice_client, first["refresh_token"]).json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["authorization_details"] == [MONEY_TRANSFER]
    presented, issued = row(first["refresh_token"]), row(second["refresh_token"])
    assert presented.revoked is not None and issued.revoked is None
    assert issued.token_family == presented.token_family  # DOT's family, for reuse protection
    new_access = row(second["access_token"], AccessToken)
    assert new_access.source_refresh_token_id == presented.pk and issued.access_token_id == new_access.pk
    assert row(first["access_token"], AccessToken).is_expired()  # ended, still on record
    assert introspect(alice_client, first["access_token"]).json() == {"active": False}
    assert introspect(alice_client, second["access_token"]).json()["active"] is True
    third = refresh(alice_client, second["refresh_token"])
    assert third.status_code == 200, third.content


def test_the_rotated_token_sent_again_revokes_the_grant_and_the_answer_is_invalid_grant(alice_client):
    first = tokens_of(alice_client)
    second = refresh(alice_client, first["refresh_token"]).json()
    assert error_of(refresh(alice_client, first["refresh_token"]))[0] == "invalid_grant"
    assert AuthorizationGrant.objects.get().state == GrantState.REVOKED
    assert introspect(alice_client, second["access_token"]).json() == {"active": False}
    assert error_of(refresh(alice_client, second["refresh_token"]))[0] == "invalid_grant"
    assert not AccessToken.objects.exists()  # the revocation removed the ended access token too


def test_another_clients_refresh_token_is_refused_and_left_alone(alice_client):
    Application.objects.create(
        client_id="other-client",
        client_secret=make_password("other-secret"),
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=REDIRECT_URI,
        name="Other",
    )
    tokens = tokens_of(alice_client)
    refused = refresh(alice_client, tokens["refresh_token"], auth=basic("other-client", "other-secret"))
    assert error_of(refused)[0] == "invalid_grant"
    assert row(tokens["refresh_token"]).revoked is None
    assert AuthorizationGrant.objects.get().state == GrantState.REDEEMED
    assert refresh(alice_client, tokens["refresh_token"]).status_code == 200


def test_a_resource_beyond_the_refresh_tokens_is_refused_and_nothing_is_written(alice_client):
    tokens = tokens_of(alice_client)
    granted = row(tokens["refresh_token"]).resource
    assert granted  # the API's identifier, from the authorization request (RFC 8707)
    counts = (AccessToken.objects.count(), RefreshToken.objects.count())
    refused = refresh(alice_client, tokens["refresh_token"], resource="https://elsewhere.example/api")
    error, description = error_of(refused)
    assert error == "invalid_target" and "elsewhere.example" in description
    assert (AccessToken.objects.count(), RefreshToken.objects.count()) == counts
    assert row(tokens["refresh_token"]).revoked is None
    assert not row(tokens["access_token"], AccessToken).is_expired()
    same = refresh(alice_client, tokens["refresh_token"], resource=granted[0])
    assert same.status_code == 200, same.content


def test_a_refresh_token_past_its_lifetime_is_refused(alice_client, settings):
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "REFRESH_TOKEN_EXPIRE_SECONDS": 3600}
    tokens = tokens_of(alice_client)
    AccessToken.objects.update(expires=timezone.now() - timedelta(hours=2))
    assert error_of(refresh(alice_client, tokens["refresh_token"]))[0] == "invalid_grant"
    assert row(tokens["refresh_token"]).revoked is None  # refused, not rotated


def test_with_a_grace_period_dot_answers_a_retry_with_the_tokens_already_issued(alice_client, settings):
    """``REFRESH_TOKEN_GRACE_PERIOD_SECONDS`` (DOT's): a client that lost the response may retry;
    DOT's rotation runs then, and the retry gets the same pair, not a new one."""
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "REFRESH_TOKEN_GRACE_PERIOD_SECONDS": 60}
    tokens = tokens_of(alice_client)
    second = refresh(alice_client, tokens["refresh_token"])
    assert second.status_code == 200, second.content
    retried = refresh(alice_client, tokens["refresh_token"])
    assert retried.status_code == 200, retried.content
    same = ("access_token", "refresh_token", "authorization_details")
    assert {k: retried.json()[k] for k in same} == {k: second.json()[k] for k in same}
    assert AuthorizationGrant.objects.get().state == GrantState.REDEEMED
    assert RefreshToken.objects.filter(revoked__isnull=True).count() == 1


def test_a_refresh_token_issued_without_a_grant_is_rotated_by_dot(alice_client, alice):
    """A pair issued outside rar_provider's endpoints (DOT's own view, a data migration): no grant, so
    DOT's rotation runs; the rotated token sent again is refused."""
    client = Application.objects.get(client_id="demo-client")
    access = AccessToken.objects.create(
        user=alice,
        application=client,
        token="hand-made-access",
        expires=timezone.now() + timedelta(minutes=5),
    )
    RefreshToken.objects.create(
        user=alice, application=client, token="hand-made-refresh", access_token=access
    )
    rotated = refresh(alice_client, "hand-made-refresh")
    assert rotated.status_code == 200, rotated.content
    assert "authorization_details" not in rotated.json()
    assert not AccessToken.objects.filter(pk=access.pk).exists()  # DOT deletes it
    assert error_of(refresh(alice_client, "hand-made-refresh"))[0] == "invalid_grant"
