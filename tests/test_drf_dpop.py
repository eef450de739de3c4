"""The DRF guard with DPoP-bound tokens (RFC 9449 §7; FAPI-02), through the demo Payments API.

Tokens come from the real flow (PAR with a proof → consent → code exchange with a proof); the API
executes the transfer only for ``Authorization: DPoP <token>`` with a fresh proof of the token's key
for this request. Everything else is a ``401`` whose ``WWW-Authenticate: DPoP`` challenge names the
error and the accepted algorithms.
"""

from __future__ import annotations

import json

import pytest
from django.core import checks

from demo_site.payments.models import Transfer

from .dpop_helpers import API_HTU, DPoPKey, dpop_header
from .test_demo_api import API_URL, APPROVED, challenge, changed, post_transfer
from .test_dpop_endpoints import bound_code, token
from .test_tokens import claims_of

pytestmark = pytest.mark.django_db

ALGS = "ES256 PS256 EdDSA"


@pytest.fixture
def key() -> DPoPKey:
    return DPoPKey()


@pytest.fixture
def bound(alice_client, key) -> str:
    """A DPoP-bound access token for alice's approved money transfer (the client then logs out)."""
    code, verifier = bound_code(alice_client, key)
    body = token(alice_client, code, verifier, key).json()
    assert body["token_type"] == "DPoP"
    alice_client.logout()
    return body["access_token"]


def dpop_post(client, access_token: str, proof: str | None, body=APPROVED, scheme: str = "DPoP"):
    extra = dpop_header(proof) if proof is not None else {}
    return client.post(
        API_URL,
        json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"{scheme} {access_token}",
        **extra,
    )


def refused(response, error: str, mentions: str) -> dict[str, str]:
    assert response.status_code == 401, response.content
    assert response["WWW-Authenticate"].startswith("DPoP "), response["WWW-Authenticate"]
    params = challenge(response)
    assert params["error"] == error, params
    assert mentions in params["error_description"], params
    assert params["algs"] == ALGS and params["realm"] == "urn:demo:payments"
    assert response.json()["error"] == error
    assert not Transfer.objects.exists()
    return params


def test_a_bound_token_with_its_proof_executes_the_transfer(client, bound, key):
    response = dpop_post(client, bound, key.proof(API_HTU, access_token=bound))
    assert response.status_code == 201, response.content
    assert Transfer.objects.get().token_jti == claims_of(bound)["jti"]


def test_a_bound_token_sent_as_bearer_is_refused(client, bound):
    """RFC 9449 §7.2: a DPoP-bound token is not a bearer token."""
    refused(post_transfer(client, bound, APPROVED), "invalid_token", "the token is DPoP-bound")


def test_a_bound_token_without_a_proof_is_refused(client, bound):
    refused(dpop_post(client, bound, None), "invalid_dpop_proof", "has no DPoP proof")


def test_a_proof_of_another_key_is_refused(client, bound):
    proof = DPoPKey().proof(API_HTU, access_token=bound)
    refused(dpop_post(client, bound, proof), "invalid_token", "not the one the token is bound to")


@pytest.mark.parametrize(
    ("make", "mentions"),
    [
        (lambda key, at: key.proof("http://testserver/api/other/", access_token=at), "(htu)"),
        (lambda key, at: key.proof("https://testserver/api/transfers/", access_token=at), "(htu)"),
        (lambda key, at: key.proof(API_HTU, "GET", access_token=at), "(htm)"),
        (lambda key, at: key.proof(API_HTU), "no ath claim"),
        (lambda key, at: key.proof(API_HTU, access_token=at + "x"), "not the hash of this access token"),
        (lambda key, at: key.proof(API_HTU, access_token=at, iat=0), "older than 60 seconds"),
        (lambda key, at: key.proof(API_HTU, access_token=at, header={"typ": "jwt"}), "not dpop+jwt"),
        (lambda key, at: key.forged(API_HTU, alg="none", signature="AA"), "alg 'none' is not accepted"),
    ],
)
def test_a_bad_proof_is_invalid_dpop_proof(client, bound, key, make, mentions):
    refused(dpop_post(client, bound, make(key, bound)), "invalid_dpop_proof", mentions)


def test_a_replayed_proof_is_refused(client, bound, key):
    proof = key.proof(API_HTU, access_token=bound)
    assert dpop_post(client, bound, proof).status_code == 201
    Transfer.objects.all().delete()
    refused(dpop_post(client, bound, proof), "invalid_dpop_proof", "already used (its jti)")


def test_a_bearer_token_keeps_working_and_is_refused_with_the_dpop_scheme(alice_client, client):
    code, verifier = bound_code(alice_client)
    bearer = token(alice_client, code, verifier).json()["access_token"]
    key = DPoPKey()
    refused(
        dpop_post(client, bearer, key.proof(API_HTU, access_token=bearer)), "invalid_token", "not DPoP-bound"
    )
    assert post_transfer(client, bearer, APPROVED).status_code == 201


def test_an_insufficient_detail_is_a_dpop_challenge_for_a_dpop_request(client, bound, key):
    response = dpop_post(client, bound, key.proof(API_HTU, access_token=bound), changed(amount="9999"))
    assert response.status_code == 403
    assert response["WWW-Authenticate"].startswith("DPoP ")
    assert challenge(response)["error"] == "insufficient_scope"


@pytest.mark.parametrize("header", ["DPoP", "DPoP ", "DPoP two tokens", "DPoP tökén"])
def test_a_malformed_dpop_authorization_header_is_400(client, header):
    response = client.post(API_URL, "{}", content_type="application/json", HTTP_AUTHORIZATION=header)
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"
    assert response["WWW-Authenticate"].startswith("DPoP ")


def test_the_api_origin_can_be_configured(client, bound, key, settings):
    """Behind a proxy the API names its public origin (``DPOP_ORIGIN``): proofs name that URL."""
    settings.RAR_PROVIDER_RESOURCE_SERVER = {"DPOP_ORIGIN": "https://api.example.com/"}
    refused(dpop_post(client, bound, key.proof(API_HTU, access_token=bound)), "invalid_dpop_proof", "(htu)")
    proof = key.proof("https://api.example.com/api/transfers/", access_token=bound)
    assert dpop_post(client, bound, proof).status_code == 201


# -- resource server nonces (RFC 9449 §9) -----------------------------------------------------------


@pytest.fixture
def rs_nonces(settings):
    settings.RAR_PROVIDER_RESOURCE_SERVER = {"DPOP_NONCE_REQUIRED": True}
    settings.REST_FRAMEWORK = {"EXCEPTION_HANDLER": "rar_provider.drf.exception_handler"}


def test_a_required_nonce_is_asked_for_by_the_api(client, bound, key, rs_nonces):
    from rar_provider.dpop import new_nonce

    response = dpop_post(client, bound, key.proof(API_HTU, access_token=bound))
    refused(response, "use_dpop_nonce", "must carry the server's nonce")
    nonce = response["DPoP-Nonce"]
    # The authorization server's nonce is not the API's (§9: nonces are per server).
    wrong = key.proof(API_HTU, access_token=bound, nonce=new_nonce("as"))
    assert dpop_post(client, bound, wrong)["DPoP-Nonce"] == nonce
    response = dpop_post(client, bound, key.proof(API_HTU, access_token=bound, nonce=nonce))
    assert response.status_code == 201, response.content


def test_the_check_warns_when_nonces_lack_the_exception_handler(settings):
    settings.RAR_PROVIDER_RESOURCE_SERVER = {"DPOP_NONCE_REQUIRED": True}
    assert "rar_provider.W012" in [message.id for message in checks.run_checks()]
    settings.REST_FRAMEWORK = {"EXCEPTION_HANDLER": "rar_provider.drf.exception_handler"}
    assert "rar_provider.W012" not in [message.id for message in checks.run_checks()]


def test_a_forged_cnf_claim_is_refused(client, alice, hand_made_tokens):
    from rar_provider import access_tokens, keys

    from .conftest import ISSUER

    claims = access_tokens.build_claims(
        issuer=ISSUER,
        audience="urn:demo:payments",
        subject=str(alice.pk),
        client_id="demo-client",
        expires_in=60,
    )
    claims["cnf"] = "jkt"
    forged = access_tokens.sign(claims, keys.current_signing_key())
    response = dpop_post(client, forged, DPoPKey().proof(API_HTU, access_token=forged))
    assert response.status_code == 401 and "cnf claim" in challenge(response)["error_description"]


def test_the_apis_leeway_applies_to_the_proofs_iat(client, bound, key, settings):
    import time

    future = time.time() + 10
    settings.RAR_PROVIDER_RESOURCE_SERVER = {"LEEWAY": 0}
    proof = key.proof(API_HTU, access_token=bound, iat=future)
    refused(dpop_post(client, bound, proof), "invalid_dpop_proof", "made in the future")
    settings.RAR_PROVIDER_RESOURCE_SERVER = {"LEEWAY": 60}
    assert dpop_post(client, bound, key.proof(API_HTU, access_token=bound, iat=future)).status_code == 201
