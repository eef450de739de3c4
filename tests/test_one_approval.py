"""One approval, one payment; revoked approvals refused at the API (issue 13, points 1 and 2).

Against a live server: the browser part (login, consent) through Django's test client on the same
database, everything a client does — token endpoint, refresh, revocation, the Payments API — over
HTTP with ``requests``, as a client would.

Before: a 2,500 USD approval executed six transfers (one per refresh: "once" was per token ``jti``);
a token narrowed to entry B executed B, and a plain refresh executed B again; after Revoke, RFC 7009
revocation or a code replay the API still executed the transfer for the JWT's lifetime.
"""

from __future__ import annotations

import json

import pytest
import requests
from django.contrib.auth.models import User
from django.test import Client

from demo_site.payments.models import Transfer
from rar_provider import access_tokens, keys
from rar_provider.models import AuthorizationDetailType, AuthorizationGrant

from .conftest import ISSUER, MONEY_TRANSFER, REDIRECT_URI, approve, pushed_request_uri, redirect_params
from .test_demo_api import APPROVED

pytestmark = pytest.mark.django_db(transaction=True)

AUTH = ("demo-client", "demo-secret")
SECOND = {**MONEY_TRANSFER, "instructedAmount": {"amount": 10, "currency": "EUR"}, "beneficiary": "Bob"}
SECOND_BODY = {**APPROVED, "instructedAmount": {"amount": "10", "currency": "EUR"}, "beneficiary": "Bob"}


@pytest.fixture
def browser(load_demo_data) -> Client:
    client = Client()
    client.force_login(User.objects.get(username="alice"))
    return client


def code_for(browser: Client, details: list[dict]) -> str:
    return redirect_params(approve(browser, pushed_request_uri(browser, details)))["code"]


def token_request(base: str, **data) -> requests.Response:
    return requests.post(f"{base}/oauth/token", data=data, auth=AUTH, timeout=30)


def exchange(base: str, code: str, **extra) -> dict:
    response = token_request(
        base, grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI, **extra
    )
    assert response.status_code == 200, response.content
    return response.json()


def refresh(base: str, refresh_token: str, **extra) -> dict:
    response = token_request(base, grant_type="refresh_token", refresh_token=refresh_token, **extra)
    assert response.status_code == 200, response.content
    return response.json()


def transfer(base: str, access_token: str, body: dict) -> requests.Response:
    return requests.post(
        f"{base}/api/transfers/",
        json=body,
        headers={"Authorization": f"Bearer {access_token}"},
        timeout=30,
    )


def claims_of(token: str) -> dict:
    return access_tokens.verify(token, keys.public_key_set(), issuer=ISSUER, audience="urn:demo:payments")


def test_example_one_approval_six_attempts_one_transfer(live_server, browser):
    base = live_server.url
    tokens = exchange(base, code_for(browser, [MONEY_TRANSFER]))
    assert transfer(base, tokens["access_token"], APPROVED).status_code == 201
    grant_id = claims_of(tokens["access_token"])["grant_id"]
    for _ in range(5):
        tokens = refresh(base, tokens["refresh_token"])
        assert claims_of(tokens["access_token"])["grant_id"] == grant_id  # a new jti, the same approval
        again = transfer(base, tokens["access_token"], APPROVED)
        assert again.status_code == 403, again.content
        assert "already executed for this approval" in again.headers["WWW-Authenticate"]
    assert Transfer.objects.count() == 1


def test_example_narrowed_then_whole_executes_each_entry_once(live_server, browser):
    base = live_server.url
    code = code_for(browser, [MONEY_TRANSFER, SECOND])
    narrowed = exchange(base, code, authorization_details=json.dumps([SECOND]))
    assert claims_of(narrowed["access_token"])["grant_entries"] == [1]
    assert transfer(base, narrowed["access_token"], SECOND_BODY).status_code == 201
    whole = refresh(base, narrowed["refresh_token"])
    assert claims_of(whole["access_token"])["grant_entries"] == [0, 1]
    assert transfer(base, whole["access_token"], SECOND_BODY).status_code == 403  # B: spent
    assert transfer(base, whole["access_token"], APPROVED).status_code == 201  # A: not yet
    assert sorted(Transfer.objects.values_list("grant_entry", flat=True)) == [0, 1]


def revoke_in_your_authorizations(base, browser, tokens, code):
    consent = AuthorizationGrant.objects.filter(user__username="alice", revoked__isnull=True).latest(
        "created"
    )
    assert browser.post(f"/oauth/authorizations/{consent.pk}/revoke").status_code in (302, 303)


def revoke_with_rfc_7009(base, browser, tokens, code):
    response = requests.post(
        f"{base}/oauth/revoke", data={"token": tokens["access_token"]}, auth=AUTH, timeout=30
    )
    assert response.status_code == 200


def replay_the_code(base, browser, tokens, code):
    response = token_request(base, grant_type="authorization_code", code=code, redirect_uri=REDIRECT_URI)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


@pytest.mark.parametrize("revoke", [revoke_in_your_authorizations, revoke_with_rfc_7009, replay_the_code])
def test_example_a_revoked_approval_no_longer_executes(live_server, browser, revoke):
    base = live_server.url
    code = code_for(browser, [MONEY_TRANSFER])
    tokens = exchange(base, code)
    revoke(base, browser, tokens, code)
    response = transfer(base, tokens["access_token"], APPROVED)
    assert response.status_code == 401, response.content
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert "revoked" in response.json()["detail"]
    assert not Transfer.objects.exists()


def test_without_the_apis_revocation_check_a_revoked_jwt_still_executes(live_server, browser):
    """The admin switch is what turns the check on (RFC 9068: a JWT is otherwise valid until exp)."""
    from rar_provider.models import ResourceServer

    ResourceServer.objects.filter(identifier="urn:demo:payments").update(check_revocation=False)
    code = code_for(browser, [MONEY_TRANSFER])
    tokens = exchange(live_server.url, code)
    revoke_with_rfc_7009(live_server.url, browser, tokens, code)
    assert transfer(live_server.url, tokens["access_token"], APPROVED).status_code == 201


def test_the_same_token_not_revoked_executes(live_server, browser):
    """The baseline of the test above: without the revocation the transfer goes through."""
    tokens = exchange(live_server.url, code_for(browser, [MONEY_TRANSFER]))
    assert transfer(live_server.url, tokens["access_token"], APPROVED).status_code == 201


def test_a_grant_of_one_time_entries_only_gets_no_refresh_token(live_server, browser):
    AuthorizationDetailType.objects.filter(type="money_transfer").update(one_time=True)
    tokens = exchange(live_server.url, code_for(browser, [MONEY_TRANSFER]))
    assert "refresh_token" not in tokens
    # A grant with an entry of another type still gets one.
    other = {"type": "account_information", "actions": ["read_balances"]}
    assert "refresh_token" in exchange(live_server.url, code_for(browser, [MONEY_TRANSFER, other]))


def test_introspection_names_the_approval(live_server, browser):
    tokens = exchange(live_server.url, code_for(browser, [MONEY_TRANSFER]))
    data = requests.post(
        f"{live_server.url}/oauth/introspect", data={"token": tokens["access_token"]}, auth=AUTH, timeout=30
    ).json()
    assert data["grant_id"] == claims_of(tokens["access_token"])["grant_id"]
    assert data["grant_entries"] == [0]
