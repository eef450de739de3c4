"""Management commands: rar_clear_expired (rar_generate_key is in test_keys.py)."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone
from oauth2_provider.models import AccessToken, RefreshToken

from rar_provider.models import CodeRedemption, PushedAuthorizationRequest

from .conftest import (
    CONFIDENTIAL,
    MONEY_TRANSFER,
    TOKEN_URL,
    approve,
    exchange,
    post_form,
    pushed_request_uri,
    redirect_params,
)

pytestmark = pytest.mark.django_db


def clear() -> str:
    out = StringIO()
    call_command("rar_clear_expired", stdout=out)
    return out.getvalue()


def test_expired_pushed_requests_go_after_the_consent_window(client):
    pushed_request_uri(client, [MONEY_TRANSFER])
    pushed_request_uri(client, [MONEY_TRANSFER])
    old, fresh = PushedAuthorizationRequest.objects.order_by("pk")
    # Expired, but a consent page opened in time may still be open: kept.
    PushedAuthorizationRequest.objects.filter(pk=old.pk).update(
        expires_at=timezone.now() - timedelta(seconds=5)
    )
    assert "Deleted 0 expired pushed authorization request" in clear()
    PushedAuthorizationRequest.objects.filter(pk=old.pk).update(
        expires_at=timezone.now() - timedelta(seconds=601)
    )
    assert "Deleted 1 expired pushed authorization request" in clear()
    assert list(PushedAuthorizationRequest.objects.all()) == [fresh]


def redeemed(alice_client) -> dict:
    code = redirect_params(approve(alice_client, pushed_request_uri(alice_client, [MONEY_TRANSFER])))["code"]
    tokens = exchange(alice_client, code).json()
    CodeRedemption.objects.update(redeemed_at=timezone.now() - timedelta(minutes=5))
    return tokens


def test_code_redemption_kept_while_its_tokens_live(alice_client):
    tokens = redeemed(alice_client)
    assert "Deleted 0 code redemption" in clear()
    # A refresh replaced the code's access token, but the refreshed tokens live (same family): kept.
    refreshed = post_form(
        alice_client,
        TOKEN_URL,
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        **CONFIDENTIAL,
    )
    assert refreshed.status_code == 200, refreshed.content
    assert CodeRedemption.objects.get().access_token.is_expired()  # ended by the rotation
    assert "Deleted 0 code redemption" in clear()
    assert CodeRedemption.objects.count() == 1


def test_code_redemption_deleted_when_no_token_is_left(alice_client):
    redeemed(alice_client)
    AccessToken.objects.all().delete()
    RefreshToken.objects.update(revoked=timezone.now())
    assert "Deleted 1 code redemption" in clear()
    assert not CodeRedemption.objects.exists()


def test_fresh_code_redemption_is_kept_for_the_code_lifetime(alice_client):
    redeemed(alice_client)
    CodeRedemption.objects.update(redeemed_at=timezone.now())
    AccessToken.objects.all().delete()
    RefreshToken.objects.update(revoked=timezone.now())
    assert "Deleted 0 code redemption" in clear()
