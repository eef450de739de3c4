"""Issue 13's examples against a live server, over HTTP: the demo Payments API behind the guard.

The finer cases of each kind are in test_drf_hardening.py, test_subjects.py and test_demo_api.py
(Django's test client); here each example is replayed as a client would send it.
"""

from __future__ import annotations

import json
import time

import pytest
import requests
from django.contrib.auth.models import User
from django.test import Client
from jwcrypto import jwe, jwk
from jwcrypto.common import base64url_encode
from oauth2_provider.models import Application

from demo_site.payments.models import Transfer

from .conftest import MONEY_TRANSFER, REDIRECT_URI, approve, basic, push, redirect_params
from .test_demo_api import APPROVED, token_for
from .test_drf_hardening import claims, signed_with

pytestmark = pytest.mark.django_db(transaction=True)

API = "urn:demo:payments"


def signed(alg: str = "RS256", **overrides) -> str:
    """Signed with the server's key under ``alg``, with ``overrides`` of the usual claims."""
    return signed_with(alg, claims(**overrides))


def recorded(token: str) -> str:
    """``token`` stored as issued (the demo API checks that a token is still live before its user)."""
    from datetime import timedelta

    from django.utils import timezone
    from oauth2_provider.models import AccessToken

    AccessToken.objects.create(
        token=token,
        application=Application.objects.get(client_id="demo-client"),
        expires=timezone.now() + timedelta(seconds=300),
        scope="",
    )
    return token


def post(base: str, token: str, body) -> requests.Response:
    data = body if isinstance(body, str) else json.dumps(body)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    return requests.post(f"{base}/api/transfers/", data=data, headers=headers, timeout=30)


@pytest.fixture
def base(live_server, load_demo_data) -> str:
    return live_server.url


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda: signed(nbf=int(time.time()) + 600), "not valid yet (nbf)"),
        (lambda: signed(exp=int(time.time()) + 10 * 365 * 24 * 3600), "lifetime exceeds"),
        (lambda: signed("PS256"), "not the one of its key"),
        (lambda: signed("RS512"), "not the one of its key"),
        (lambda: recorded(signed(sub=" 1")), "not a user of this site"),
        (lambda: recorded(signed(sub="01")), "not a user of this site"),
    ],
    ids=["nbf", "ten-years", "PS256-with-RS256-key", "RS512-with-RS256-key", "sub-space-1", "sub-01"],
)
def test_hardened_guard_over_http(base, make, reason):
    response = post(base, make(), APPROVED)
    assert response.status_code == 401
    assert reason in response.headers["WWW-Authenticate"]
    assert not Transfer.objects.exists()


def test_a_forged_alg_is_echoed_cut_short_over_http(base):
    forged = json.dumps({"alg": "A" * 3000, "typ": "at+jwt", "kid": "x"})
    token = f"{base64url_encode(forged)}.{base64url_encode(json.dumps(claims()))}.c2ln"
    response = post(base, token, APPROVED)
    assert response.status_code == 401
    assert len(response.headers["WWW-Authenticate"]) < 400


def test_over_deep_json_is_400_over_http(base):
    response = post(
        base, token_for(User.objects.get(username="alice"), [MONEY_TRANSFER]), "[" * 50000 + "]" * 50000
    )
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["detail"]


def test_the_list_needs_a_reading_detail_over_http(base):
    alice = User.objects.get(username="alice")
    payment = token_for(alice, [MONEY_TRANSFER])
    assert post(base, payment, APPROVED).status_code == 201
    listed = requests.get(
        f"{base}/api/transfers/", headers={"Authorization": f"Bearer {payment}"}, timeout=30
    )
    assert listed.status_code == 403 and "2500" not in listed.text
    reader = token_for(alice, [{"type": "account_information", "actions": ["read_transactions"]}])
    listed = requests.get(f"{base}/api/transfers/", headers={"Authorization": f"Bearer {reader}"}, timeout=30)
    assert listed.status_code == 200 and len(listed.json()["transfers"]) == 1


def test_a_jwe_api_refuses_bare_and_compressed_tokens_over_http(base, settings):
    private = jwk.JWK.generate(kty="RSA", size=2048)
    settings.RAR_PROVIDER_RESOURCE_SERVER = {"DECRYPTION_KEY": private.export_private(as_dict=True)}
    bare = post(base, signed(), APPROVED)
    assert bare.status_code == 401 and "only encrypted" in bare.headers["WWW-Authenticate"]
    header = {"alg": "RSA-OAEP-256", "enc": "A256GCM", "zip": "DEF", "cty": "JWT"}
    envelope = jwe.JWE(signed(padding="A" * 60000).encode(), protected=json.dumps(header))
    envelope.add_recipient(jwk.JWK(**private.export_public(as_dict=True)))
    compressed = post(base, envelope.serialize(compact=True), APPROVED)
    assert compressed.status_code == 401 and "compressed (zip)" in compressed.headers["WWW-Authenticate"]


def test_a_client_registered_as_1_acting_for_alice_executes_as_alice_over_http(base):
    alice = User.objects.get(username="alice")
    assert alice.pk == 1
    Application.objects.create(
        name="Client One",
        client_id="1",
        client_secret="one-secret",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=REDIRECT_URI,
    )
    browser = Client()
    browser.force_login(alice)
    pushed = push(browser, [MONEY_TRANSFER], auth=basic("1", "one-secret"), client_id="1")
    code = redirect_params(approve(browser, pushed.json()["request_uri"], client_id="1"))["code"]
    token = requests.post(
        f"{base}/oauth/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI},
        auth=("1", "one-secret"),
        timeout=30,
    ).json()["access_token"]
    assert post(base, token, APPROVED).status_code == 201
    assert Transfer.objects.get().user == alice
