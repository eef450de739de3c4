"""DPoP at the token endpoint, continued: refresh (RFC 9449 §5), server nonces (§8), ``DPOP_REQUIRED``,
and headers no client should send — always a JSON error, never a 500."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oauth2_provider.models import AccessToken

from rar_provider.models import IssuedRefreshToken

from .conftest import CONFIDENTIAL, MONEY_TRANSFER, PAR_URL, TOKEN_URL, post_form, request_params
from .dpop_helpers import PAR_HTU, DPoPKey, dpop_header
from .strict_helpers import assert_oauth_json_error
from .test_dpop_endpoints import bound_code, token
from .test_rar_endpoints import ACCOUNT_INFORMATION
from .test_tokens import claims_of

pytestmark = pytest.mark.django_db


def refresh(client, refresh_token: str, key: DPoPKey | None = None, *, public=False, proof=None, **extra):
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token, **extra}
    if public:
        data["client_id"] = "demo-public"
    headers = dpop_header(proof or key.proof()) if (key or proof) else {}
    return post_form(client, TOKEN_URL, data, **({} if public else CONFIDENTIAL), **headers)


def dpop_tokens(client, key: DPoPKey, *, public: bool = False) -> dict:
    code, verifier = bound_code(client, key, public=public)
    response = token(client, code, verifier, key, public=public)
    assert response.status_code == 200, response.content
    return response.json()


# -- refresh (RFC 9449 §5) --------------------------------------------------------------------------


def test_a_public_clients_refresh_token_is_bound_to_its_key(alice_client):
    key = DPoPKey()
    issued = dpop_tokens(alice_client, key, public=True)
    for sent in (None, DPoPKey()):
        response = refresh(alice_client, issued["refresh_token"], sent, public=True)
        body = assert_oauth_json_error(response, 400, "invalid_grant", mentions="RFC 9449 §5")
        assert ("send a DPoP proof" if sent is None else "not the one") in body["error_description"]
    refreshed = refresh(alice_client, issued["refresh_token"], key, public=True).json()
    assert refreshed["token_type"] == "DPoP"
    assert claims_of(refreshed["access_token"])["cnf"] == {"jkt": key.jkt}
    assert IssuedRefreshToken.objects.get(
        refresh_token__token_checksum__isnull=False, refresh_token__revoked=None
    )


def test_a_confidential_clients_refresh_needs_a_proof_of_any_key(alice_client):
    """RFC 9449 §5: its refresh token is sender-constrained by client authentication, not by the key;
    but a grant issued with DPoP is never refreshed into bearer tokens."""
    key, rotated = DPoPKey(), DPoPKey("EdDSA")
    issued = dpop_tokens(alice_client, key)
    response = refresh(alice_client, issued["refresh_token"])
    assert_oauth_json_error(response, 400, "invalid_grant", mentions="issued with DPoP")
    refreshed = refresh(alice_client, issued["refresh_token"], rotated).json()
    assert refreshed["token_type"] == "DPoP"
    assert claims_of(refreshed["access_token"])["cnf"] == {"jkt": rotated.jkt}
    again = refresh(alice_client, refreshed["refresh_token"], rotated).json()
    assert again["token_type"] == "DPoP" and claims_of(again["access_token"])["cnf"]["jkt"] == rotated.jkt


def test_a_narrowing_refresh_with_a_proof_stays_bound(alice_client):
    """RFC 9396 §6 and RFC 9449 §5 together: the narrowed token is bound; the grant stays whole."""
    key = DPoPKey()
    code, verifier = bound_code(alice_client, key, details=[MONEY_TRANSFER, ACCOUNT_INFORMATION])
    issued = token(alice_client, code, verifier, key).json()
    narrowed = refresh(
        alice_client, issued["refresh_token"], key, authorization_details=json.dumps([ACCOUNT_INFORMATION])
    )
    assert narrowed.status_code == 200, narrowed.content
    body = narrowed.json()
    assert body["authorization_details"] == [ACCOUNT_INFORMATION] and body["token_type"] == "DPoP"
    assert claims_of(body["access_token"])["cnf"] == {"jkt": key.jkt}
    whole = refresh(alice_client, body["refresh_token"], key).json()
    assert whole["authorization_details"] == [MONEY_TRANSFER, ACCOUNT_INFORMATION]
    assert whole["token_type"] == "DPoP"


def test_a_refused_refresh_does_not_rotate_the_token(alice_client):
    key = DPoPKey()
    issued = dpop_tokens(alice_client, key, public=True)
    refresh(alice_client, issued["refresh_token"], DPoPKey(), public=True)
    assert AccessToken.objects.count() == 1
    assert refresh(alice_client, issued["refresh_token"], key, public=True).status_code == 200


def test_a_bearer_refresh_token_may_become_dpop_bound(alice_client):
    code, verifier = bound_code(alice_client)
    issued = token(alice_client, code, verifier).json()
    assert issued["token_type"] == "Bearer"
    key = DPoPKey()
    refreshed = refresh(alice_client, issued["refresh_token"], key).json()
    assert refreshed["token_type"] == "DPoP" and claims_of(refreshed["access_token"])["cnf"]["jkt"] == key.jkt


# -- server nonces (RFC 9449 §8) and DPOP_REQUIRED -------------------------------------------------------


@pytest.fixture
def nonces_required(settings):
    settings.RAR_PROVIDER = {**settings.RAR_PROVIDER, "DPOP_NONCE_REQUIRED": True}


def test_a_required_nonce_is_asked_for_at_the_token_endpoint(alice_client, nonces_required):
    key = DPoPKey()
    code, verifier = bound_code(alice_client, dpop_jkt=key.jkt)
    response = token(alice_client, code, verifier, key)
    assert_oauth_json_error(response, 400, "use_dpop_nonce", mentions="nonce")
    nonce = response["DPoP-Nonce"]
    assert len(nonce) == 32 and response["Access-Control-Expose-Headers"] == "DPoP-Nonce"
    response = token(alice_client, code, verifier, proof=key.proof(nonce=nonce))
    assert response.status_code == 200, response.content
    assert response.json()["token_type"] == "DPoP" and response["DPoP-Nonce"]  # §8.2: the next nonce


def test_a_required_nonce_is_asked_for_at_par(client, nonces_required):
    key = DPoPKey()
    params = request_params([MONEY_TRANSFER])
    response = post_form(client, PAR_URL, params, **CONFIDENTIAL, **dpop_header(key.proof(PAR_HTU)))
    assert_oauth_json_error(response, 400, "use_dpop_nonce")
    proof = key.proof(PAR_HTU, nonce=response["DPoP-Nonce"])
    assert post_form(client, PAR_URL, params, **CONFIDENTIAL, **dpop_header(proof)).status_code == 201


def test_a_nonce_of_another_server_is_refused(alice_client, nonces_required):
    from rar_provider.dpop import new_nonce

    key = DPoPKey()
    code, verifier = bound_code(alice_client, dpop_jkt=key.jkt)
    response = token(alice_client, code, verifier, proof=key.proof(nonce=new_nonce("urn:demo:payments")))
    assert_oauth_json_error(response, 400, "use_dpop_nonce", mentions="not the current one")


def test_dpop_required_refuses_a_token_request_without_a_proof(alice_client, settings):
    settings.RAR_PROVIDER = {**settings.RAR_PROVIDER, "DPOP_REQUIRED": True}
    code, verifier = bound_code(alice_client)
    response = token(alice_client, code, verifier)
    assert_oauth_json_error(response, 400, "invalid_dpop_proof", mentions="a DPoP proof is required")
    assert token(alice_client, code, verifier, DPoPKey()).json()["token_type"] == "DPoP"


# -- headers no client should send ---------------------------------------------------------------------


GARBAGE = [
    "",
    " ",
    "null",
    "...",
    "a.b.c",
    "e30.e30.e30",
    "eyJ0eXAiOiJkcG9wK2p3dCJ9.e30.c2ln",  # {"typ": "dpop+jwt"} and nothing else
    "eyJhbGciOiJub25lIn0.e30.",
    "x" * 100000,
    "Ã©Ã©.Ã©.Ã©",
    "eyJhbGciOiJFUzI1NiIsInR5cCI6ImRwb3Arand0IiwiandrIjp7Imt0eSI6IkVDIn19.e30.c2ln",  # jwk without members
]


@pytest.mark.parametrize("value", GARBAGE, ids=range(len(GARBAGE)))
def test_garbage_dpop_headers_are_json_errors(client, value):
    data = {"grant_type": "client_credentials"}
    response = post_form(client, TOKEN_URL, data, **CONFIDENTIAL, HTTP_DPOP=value)
    assert_oauth_json_error(response, 400, "invalid_dpop_proof")
    response = post_form(client, PAR_URL, request_params([MONEY_TRANSFER]), **CONFIDENTIAL, HTTP_DPOP=value)
    assert_oauth_json_error(response, 400, "invalid_dpop_proof")


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    header=st.dictionaries(
        st.sampled_from(["typ", "alg", "jwk", "crit", "kid", "b64"]),
        st.sampled_from(["real", "dpop+jwt", "ES256", "EdDSA", "PS256"]) | _JSON,
    ),
    payload=st.dictionaries(st.sampled_from(["jti", "htm", "htu", "iat", "ath", "nonce"]), _JSON) | _JSON,
)
def test_fuzzed_proofs_are_json_errors(client, header, payload):
    """Forged headers and payloads (with a real key's jwk mixed in): refused with a JSON 400, no 500."""
    from jwcrypto.common import base64url_encode

    if header.get("jwk") == "real":
        header["jwk"] = DPoPKey().public
    value = f"{base64url_encode(json.dumps(header))}.{base64url_encode(json.dumps(payload))}.c2ln"
    response = post_form(
        client, TOKEN_URL, {"grant_type": "client_credentials"}, **CONFIDENTIAL, HTTP_DPOP=value
    )
    assert_oauth_json_error(response, 400, "invalid_dpop_proof")
