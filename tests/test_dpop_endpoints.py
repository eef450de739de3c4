"""DPoP at the authorization server through the real endpoints (RFC 9449 §5, §6, §10; FAPI-02).

PAR binds the request to a key (a ``DPoP`` proof or ``dpop_jkt``), the code carries the binding,
the token endpoint issues DPoP-bound tokens (``token_type: DPoP``, ``cnf.jkt`` in the JWT and in
introspection) to a request with a proof, and refuses a bound code without a proof of its key.
Refresh, nonces and malformed headers: tests/test_dpop_refresh.py.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlparse

import pytest
from oauth2_provider.models import AccessToken, Grant

from rar_provider.models import IssuedAccessToken, IssuedCode, IssuedRefreshToken, PushedAuthorizationRequest

from .conftest import (
    AUTHORIZE_URL,
    CONFIDENTIAL,
    MONEY_TRANSFER,
    PAR_URL,
    REDIRECT_URI,
    TOKEN_URL,
    approve,
    consent_transaction,
    pkce_pair,
    post_form,
    push,
    redirect_params,
    request_params,
)
from .dpop_helpers import PAR_HTU, DPoPKey, dpop_header
from .strict_helpers import INTROSPECT_URL, SERVICE, assert_oauth_json_error
from .test_rar_endpoints import ACCOUNT_INFORMATION
from .test_tokens import PAYMENTS_API, claims_of

pytestmark = pytest.mark.django_db


def pushed(client, key: DPoPKey | None = None, *, public: bool = False, details=None, **overrides):
    """Push ``details`` (the money transfer; PKCE), with a DPoP proof of ``key`` when given."""
    verifier, challenge = pkce_pair()
    extra = {"code_challenge": challenge, "code_challenge_method": "S256", **overrides}
    if public:
        extra["client_id"] = "demo-public"
    headers = dpop_header(key.proof(PAR_HTU)) if key is not None else {}
    auth = {} if public else CONFIDENTIAL
    response = post_form(
        client, PAR_URL, request_params(details or [MONEY_TRANSFER], **extra), **auth, **headers
    )
    response.verifier = verifier
    return response


def bound_code(client, key: DPoPKey | None = None, *, public: bool = False, **overrides) -> tuple[str, str]:
    """``(code, code_verifier)`` of an approved pushed request (bound by ``key``'s proof if given)."""
    response = pushed(client, key, public=public, **overrides)
    assert response.status_code == 201, response.content
    client_id = "demo-public" if public else "demo-client"
    code = redirect_params(approve(client, response.json()["request_uri"], client_id=client_id))["code"]
    return code, response.verifier


def token(client, code: str, verifier: str, key: DPoPKey | None = None, *, public: bool = False, proof=None):
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
    data["code_verifier"] = verifier
    if public:
        data["client_id"] = "demo-public"
    headers = {}
    if proof is not None or key is not None:
        headers = dpop_header(proof if proof is not None else key.proof())
    return post_form(client, TOKEN_URL, data, **({} if public else CONFIDENTIAL), **headers)


def introspect(client, value: str):
    return post_form(client, INTROSPECT_URL, {"token": value}, **PAYMENTS_API).json()


# -- PAR (RFC 9449 §10.1) ---------------------------------------------------------------------------


def test_a_proof_at_par_binds_the_pushed_request_and_its_code(alice_client):
    key = DPoPKey()
    response = pushed(alice_client, key)
    assert response.status_code == 201, response.content
    record = PushedAuthorizationRequest.objects.get()
    assert ["dpop_jkt", key.jkt] in record.parameters
    code = redirect_params(approve(alice_client, response.json()["request_uri"]))["code"]
    assert IssuedCode.objects.get(code__code=code).dpop_jkt == key.jkt


def test_the_dpop_jkt_parameter_binds_without_a_proof(alice_client):
    key = DPoPKey()
    code, verifier = bound_code(alice_client, dpop_jkt=key.jkt)
    assert IssuedCode.objects.get(code__code=code).dpop_jkt == key.jkt
    body = token(alice_client, code, verifier, key).json()
    assert body["token_type"] == "DPoP"
    assert claims_of(body["access_token"])["cnf"] == {"jkt": key.jkt}


def test_dpop_jkt_and_a_proof_of_the_same_key_are_accepted(alice_client):
    key = DPoPKey("EdDSA")
    assert pushed(alice_client, key, dpop_jkt=key.jkt).status_code == 201


def test_dpop_jkt_and_a_proof_of_another_key_are_refused(client):
    response = pushed(client, DPoPKey(), dpop_jkt=DPoPKey().jkt)
    assert_oauth_json_error(response, 400, "invalid_dpop_proof", mentions="dpop_jkt is not the thumbprint")
    assert not PushedAuthorizationRequest.objects.exists()


@pytest.mark.parametrize(
    ("make", "mentions"),
    [
        (lambda key: key.proof(), "(htu)"),  # made for the token endpoint
        (lambda key: key.proof(PAR_HTU, "GET"), "(htm)"),
        (lambda key: key.forged(PAR_HTU, alg="HS256"), "alg 'HS256' is not accepted"),
        (lambda key: key.proof(PAR_HTU, header={"typ": "JWT"}), "not dpop+jwt"),
    ],
)
def test_a_bad_proof_at_par_is_invalid_dpop_proof(client, make, mentions):
    params = request_params([MONEY_TRANSFER])
    response = post_form(client, PAR_URL, params, **CONFIDENTIAL, **dpop_header(make(DPoPKey())))
    assert_oauth_json_error(response, 400, "invalid_dpop_proof", mentions=mentions)
    assert not PushedAuthorizationRequest.objects.exists()


def test_a_malformed_dpop_jkt_is_refused_by_the_parameter_table(client):
    response = push(client, [MONEY_TRANSFER], dpop_jkt="not-a-thumbprint", **CONFIDENTIAL)
    assert_oauth_json_error(response, 400, "invalid_request", mentions="dpop_jkt")


def test_front_channel_dpop_jkt_binds_the_code(alice_client):
    """RFC 9449 §10: dpop_jkt is an authorization request parameter, pushed or not."""
    key = DPoPKey()
    verifier, challenge = pkce_pair()
    query = request_params(
        [MONEY_TRANSFER],
        client_id="demo-public",
        code_challenge=challenge,
        code_challenge_method="S256",
        dpop_jkt=key.jkt,
    )
    page = alice_client.get(AUTHORIZE_URL, query)
    decision = alice_client.post(
        AUTHORIZE_URL, {"transaction": consent_transaction(page), "decision": "allow"}
    )
    code = redirect_params(decision)["code"]
    assert token(alice_client, code, verifier, DPoPKey(), public=True).json()["error"] == "invalid_grant"
    assert token(alice_client, code, verifier, key, public=True).json()["token_type"] == "DPoP"


# -- the code exchange (RFC 9449 §5, §10) --------------------------------------------------------------


def test_a_bound_code_is_exchanged_for_dpop_bound_tokens(alice_client, client):
    key = DPoPKey()
    code, verifier = bound_code(alice_client, key)
    response = token(alice_client, code, verifier, key)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["token_type"] == "DPoP" and body["authorization_details"] == [MONEY_TRANSFER]
    claims = claims_of(body["access_token"])
    assert claims["cnf"] == {"jkt": key.jkt}  # RFC 9449 §6.1
    assert IssuedAccessToken.objects.get().dpop_jkt == key.jkt
    assert IssuedRefreshToken.objects.get().dpop_jkt == key.jkt
    data = introspect(client, body["access_token"])  # RFC 9449 §6.2
    assert data["active"] is True and data["token_type"] == "DPoP" and data["cnf"] == {"jkt": key.jkt}


@pytest.mark.parametrize("sent", ["none", "other-key"])
def test_a_bound_code_without_a_proof_of_its_key_is_invalid_grant(alice_client, sent):
    key = DPoPKey()
    code, verifier = bound_code(alice_client, key)
    response = token(alice_client, code, verifier, None if sent == "none" else DPoPKey())
    body = assert_oauth_json_error(response, 400, "invalid_grant", mentions="RFC 9449 §10")
    assert ("send a DPoP proof" if sent == "none" else "not the one") in body["error_description"]
    # The code is not used up: its client, with the key, still exchanges it.
    assert Grant.objects.filter(code=code).exists()
    assert token(alice_client, code, verifier, key).json()["token_type"] == "DPoP"


def test_an_unbound_code_with_a_proof_gets_bound_tokens(alice_client):
    key = DPoPKey("PS256")
    code, verifier = bound_code(alice_client)
    body = token(alice_client, code, verifier, key).json()
    assert body["token_type"] == "DPoP"
    assert claims_of(body["access_token"])["cnf"]["jkt"] == key.jkt


def test_without_a_proof_tokens_stay_bearer(alice_client, client):
    code, verifier = bound_code(alice_client)
    body = token(alice_client, code, verifier).json()
    assert body["token_type"] == "Bearer"
    assert "cnf" not in claims_of(body["access_token"])
    data = introspect(client, body["access_token"])
    assert data["token_type"] == "Bearer" and "cnf" not in data


def test_a_replayed_proof_at_the_token_endpoint_is_refused(alice_client):
    key = DPoPKey()
    proof = key.proof()
    code, verifier = bound_code(alice_client, key)
    assert token(alice_client, code, verifier, proof=proof).status_code == 200
    code, verifier = bound_code(alice_client, key)
    response = token(alice_client, code, verifier, proof=proof)
    assert_oauth_json_error(response, 400, "invalid_dpop_proof", mentions="already used (its jti)")


def test_client_credentials_with_a_proof_are_dpop_bound(client):
    key = DPoPKey()
    data = {"grant_type": "client_credentials", "authorization_details": json.dumps([ACCOUNT_INFORMATION])}
    response = post_form(client, TOKEN_URL, data, **SERVICE, **dpop_header(key.proof()))
    body = response.json()
    assert response.status_code == 200 and body["token_type"] == "DPoP", body
    assert claims_of(body["access_token"])["cnf"] == {"jkt": key.jkt}


def test_a_code_of_dots_own_view_gets_no_unbound_refresh_token(client, alice):
    """No grant to record the key on: a DPoP-bound access token and no refresh token (RFC 9449 §5)."""
    from urllib.parse import urlencode

    from rar_provider.views.oauth import get_server

    verifier, challenge = pkce_pair()
    query = request_params(None, scope="profile", code_challenge=challenge, code_challenge_method="S256")
    headers, _, _ = get_server().create_authorization_response(
        uri="/elsewhere?" + urlencode(query), scopes=["profile"], credentials={"user": alice}
    )
    code = parse_qs(urlparse(headers["Location"]).query)["code"][0]
    body = token(client, code, verifier, DPoPKey()).json()
    assert body["token_type"] == "DPoP" and "refresh_token" not in body, body


def test_dpop_jkt_is_refused_at_dots_own_authorization_view():
    from oauthlib.oauth2.rfc6749.errors import InvalidRequestError

    from rar_provider.views.oauth import get_server

    with pytest.raises(InvalidRequestError, match="does not bind codes to DPoP keys"):
        get_server().validate_authorization_request(
            "/elsewhere?client_id=demo-client&response_type=code&scope=profile"
            f"&redirect_uri={REDIRECT_URI}&dpop_jkt={DPoPKey().jkt}"
        )


def test_metadata_lists_the_dpop_algorithms(client, settings):
    data = client.get("/.well-known/oauth-authorization-server").json()
    assert data["dpop_signing_alg_values_supported"] == ["ES256", "PS256", "EdDSA"]
    settings.RAR_PROVIDER = {**settings.RAR_PROVIDER, "DPOP_SIGNING_ALGS": ["EdDSA"]}
    data = client.get("/.well-known/oauth-authorization-server").json()
    assert data["dpop_signing_alg_values_supported"] == ["EdDSA"]


def test_dots_own_resource_protection_refuses_a_bound_token(alice_client):
    """RFC 9449 §7.2: DOT's views and DRF class read only Bearer; a DPoP-bound token is refused there."""
    from rar_provider.views.oauth import get_server

    code, verifier = bound_code(alice_client)
    bearer = token(alice_client, code, verifier).json()["access_token"]
    code, verifier = bound_code(alice_client)
    bound = token(alice_client, code, verifier, DPoPKey()).json()["access_token"]
    server = get_server()
    AccessToken.objects.update(resource=[])  # DOT's RFC 8707 audience check aside: any URL is theirs
    assert server.verify_request("/anything", headers={"Authorization": f"Bearer {bearer}"})[0] is True
    valid, request = server.verify_request("/anything", headers={"Authorization": f"Bearer {bound}"})
    assert valid is False and "DPoP-bound" in request.oauth2_error["error_description"]
