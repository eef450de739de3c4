"""The JWKS endpoint, the metadata fields for JWT access tokens, and JWT / JWE access tokens from
real code flows verified with the published keys (TOK-01, TOK-02, MD-01, RAR-10, RAR-14, RAR-16)."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.test import override_settings
from jwcrypto import jwk
from jwcrypto.common import base64url_decode

from rar_provider import access_tokens
from rar_provider.models import AccessTokenFormat, AuthorizationDetailType, ResourceServer

from .conftest import (
    ISSUER,
    MONEY_TRANSFER,
    TOKEN_URL,
    approve,
    exchange,
    post_form,
    pushed_request_uri,
    redirect_params,
)

pytestmark = pytest.mark.django_db

JWKS_URL = "/oauth/jwks"
METADATA_URL = "/.well-known/oauth-authorization-server"
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}
JWE_API = "urn:test:sealed-payments"


@pytest.fixture(scope="module")
def rsa_keys() -> list[dict]:
    return [jwk.JWK.generate(kty="RSA", size=2048).export_private(as_dict=True) for _ in range(2)]


@pytest.fixture(scope="module")
def api_private_key() -> jwk.JWK:
    """The JWE API's own key pair: the server knows the public half only."""
    return jwk.JWK.generate(kty="RSA", size=2048, kid="sealed-api-1")


def signing_keys_setting(value):
    return override_settings(RAR_PROVIDER={**settings.RAR_PROVIDER, "SIGNING_KEYS": value})


def fetch_jwks(client) -> dict:
    response = client.get(JWKS_URL)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/jwk-set+json"
    return json.loads(response.content)


def key_set(jwks: dict) -> jwk.JWKSet:
    return jwk.JWKSet.from_json(json.dumps(jwks))


def header_of(token: str) -> dict:
    return json.loads(base64url_decode(token.split(".")[0]))


def code_flow(client, details=None, **overrides) -> dict:
    """PAR → consent (alice, logged in) → code → token response."""
    request_uri = pushed_request_uri(
        client, details if details is not None else [MONEY_TRANSFER], **overrides
    )
    params = redirect_params(approve(client, request_uri))
    response = exchange(client, params["code"])
    assert response.status_code == 200, response.content
    return response.json()


def refresh(client, refresh_token: str) -> dict:
    from .conftest import CONFIDENTIAL

    response = post_form(
        client, TOKEN_URL, {"grant_type": "refresh_token", "refresh_token": refresh_token}, **CONFIDENTIAL
    )
    assert response.status_code == 200, response.content
    return response.json()


# --- /oauth/jwks (TOK-02) ----------------------------------------------------------------------


def test_tok_02_jwks_serves_public_members_only(client):
    jwks = fetch_jwks(client)
    configured = settings.RAR_PROVIDER["SIGNING_KEYS"]
    assert len(jwks["keys"]) == len(configured) == 1
    published = jwks["keys"][0]
    assert not published.keys() & PRIVATE_MEMBERS
    assert published["kty"] == "RSA" and published["n"] and published["e"]
    assert published["kid"] == configured[0]["kid"]
    assert published["alg"] == "RS256" and published["use"] == "sig"
    # The served key is the public half of the configured one.
    assert jwk.JWK(**published).thumbprint() == jwk.JWK(**configured[0]).thumbprint()
    assert not jwk.JWK(**published).has_private


def test_tok_02_jwks_headers_and_methods(client):
    response = client.get(JWKS_URL)
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "max-age" in response["Cache-Control"]
    assert client.head(JWKS_URL).status_code == 200
    assert client.post(JWKS_URL).status_code == 405


def test_tok_02_jwks_after_rotation_publishes_both(client, rsa_keys):
    ec = jwk.JWK.generate(kty="EC", crv="P-256").export_private(as_dict=True)
    with signing_keys_setting([rsa_keys[0], ec, rsa_keys[1]]):
        jwks = fetch_jwks(client)
        metadata = client.get(METADATA_URL).json()
    kids = [key["kid"] for key in jwks["keys"]]
    assert kids == [
        jwk.JWK(**rsa_keys[0]).thumbprint(),
        jwk.JWK(**ec).thumbprint(),
        jwk.JWK(**rsa_keys[1]).thumbprint(),
    ]
    assert [key["alg"] for key in jwks["keys"]] == ["RS256", "ES256", "RS256"]
    assert not any(key.keys() & PRIVATE_MEMBERS for key in jwks["keys"])
    assert metadata["access_token_signing_alg_values_supported"] == ["ES256", "RS256"]


def test_tok_02_jwks_empty_without_keys(client):
    with signing_keys_setting(None):
        assert fetch_jwks(client) == {"keys": []}
        assert "access_token_signing_alg_values_supported" not in client.get(METADATA_URL).json()


def test_tok_02_jwt_after_rotation_is_signed_by_the_newest_key(alice_client, rsa_keys):
    with signing_keys_setting(rsa_keys):
        body = code_flow(alice_client)
        jwks = fetch_jwks(alice_client)
    assert header_of(body["access_token"])["kid"] == jwk.JWK(**rsa_keys[1]).thumbprint()
    claims = access_tokens.verify(
        body["access_token"], key_set(jwks), issuer=ISSUER, audience="urn:demo:payments"
    )
    assert claims["authorization_details"] == [MONEY_TRANSFER]


# --- metadata (MD-01, TOK-02) ------------------------------------------------------------------


def test_md_01_metadata_for_jwt_access_tokens(client):
    metadata = client.get(METADATA_URL).json()
    assert metadata["issuer"] == ISSUER
    assert metadata["jwks_uri"] == ISSUER + "/oauth/jwks"
    assert metadata["access_token_signing_alg_values_supported"] == ["RS256"]
    assert metadata["introspection_endpoint"] == ISSUER + "/oauth/introspect"
    assert {"client_secret_basic", "client_secret_post"} <= set(
        metadata["token_endpoint_auth_methods_supported"]
    )
    assert {"authorization_code", "client_credentials", "refresh_token"} <= set(
        metadata["grant_types_supported"]
    )


def test_md_01_jwks_uri_follows_the_configured_issuer(client):
    with override_settings(RAR_PROVIDER={**settings.RAR_PROVIDER, "ISSUER": "https://auth.example.com/"}):
        metadata = client.get(METADATA_URL).json()
    assert metadata["jwks_uri"] == "https://auth.example.com/oauth/jwks"


# --- a JWT from a real code flow (TOK-01, RAR-10, RAR-14) -----------------------------------------


def test_tok_01_rar_14_jwt_from_a_code_flow_verifies_with_the_jwks(alice_client, alice):
    body = code_flow(alice_client)
    assert body["authorization_details"] == [MONEY_TRANSFER]  # RAR-10
    token = body["access_token"]
    header = header_of(token)
    assert header["typ"] == "at+jwt" and header["alg"] == "RS256"
    jwks = fetch_jwks(alice_client)
    assert header["kid"] in [key["kid"] for key in jwks["keys"]]
    claims = access_tokens.verify(token, key_set(jwks), issuer=ISSUER, audience="urn:demo:payments")
    assert claims["authorization_details"] == [MONEY_TRANSFER]
    assert claims["aud"] == "urn:demo:payments"
    assert claims["sub"] == str(alice.pk)
    assert claims["client_id"] == "demo-client"
    assert claims["iss"] == ISSUER
    assert claims["exp"] - claims["iat"] == body["expires_in"]
    assert claims["jti"]
    # Refresh tokens stay opaque.
    assert body["refresh_token"].count(".") == 0


def test_tok_01_scope_claim_when_requested(alice_client):
    body = code_flow(alice_client, scope="profile")
    jwks = fetch_jwks(alice_client)
    claims = access_tokens.verify(
        body["access_token"], key_set(jwks), issuer=ISSUER, audience="urn:demo:payments"
    )
    assert claims["scope"] == "profile" and claims["authorization_details"] == [MONEY_TRANSFER]


def test_rar_14_refreshed_jwt_carries_the_details(alice_client):
    body = code_flow(alice_client)
    refreshed = refresh(alice_client, body["refresh_token"])
    assert refreshed["authorization_details"] == [MONEY_TRANSFER]
    claims = access_tokens.verify(
        refreshed["access_token"],
        key_set(fetch_jwks(alice_client)),
        issuer=ISSUER,
        audience="urn:demo:payments",
    )
    assert claims["authorization_details"] == [MONEY_TRANSFER]
    assert (
        claims["jti"]
        != access_tokens.verify(
            body["access_token"],
            key_set(fetch_jwks(alice_client)),
            issuer=ISSUER,
            audience="urn:demo:payments",
        )["jti"]
    )


# --- a JWE API (RAR-16) -------------------------------------------------------------------------


@pytest.fixture
def sealed_api(api_private_key) -> ResourceServer:
    api = ResourceServer(
        name="Sealed Payments API",
        identifier=JWE_API,
        access_token_format=AccessTokenFormat.JWE,
        encryption_key=api_private_key.export_public(),
    )
    api.full_clean()
    api.save()
    money_transfer = AuthorizationDetailType.objects.get(
        resource_server__identifier="urn:demo:payments", type="money_transfer"
    )
    AuthorizationDetailType.objects.create(
        resource_server=api,
        type="money_transfer",
        label="Money transfer",
        json_schema=money_transfer.json_schema,
    )
    return api


def test_rar_16_jwe_token_response_keeps_only_type_and_the_token_carries_all(
    alice_client, alice, sealed_api, api_private_key
):
    body = code_flow(alice_client, audience=JWE_API)
    assert body["authorization_details"] == [{"type": "money_transfer"}]
    token = body["access_token"]
    assert token.count(".") == 4  # compact JWE
    header = header_of(token)
    assert header["alg"] == "RSA-OAEP-256" and header["enc"] == "A256GCM" and header["cty"] == "JWT"
    assert header["kid"] == "sealed-api-1"
    assert "Hanna Herwitz" not in json.dumps(body)
    inner = access_tokens.decrypt(token, api_private_key)
    assert header_of(inner)["typ"] == "at+jwt"
    claims = access_tokens.verify(inner, key_set(fetch_jwks(alice_client)), issuer=ISSUER, audience=JWE_API)
    assert claims["authorization_details"] == [MONEY_TRANSFER]
    assert (
        claims["aud"] == JWE_API and claims["sub"] == str(alice.pk) and claims["client_id"] == "demo-client"
    )
    # Nobody else can read it.
    with pytest.raises(access_tokens.InvalidAccessToken):
        access_tokens.decrypt(token, jwk.JWK.generate(kty="RSA", size=2048))
    # The refreshed token is encrypted too; the response still shows types only.
    refreshed = refresh(alice_client, body["refresh_token"])
    assert refreshed["authorization_details"] == [{"type": "money_transfer"}]
    assert refreshed["refresh_token"].count(".") == 0
    again = access_tokens.decrypt(refreshed["access_token"], api_private_key)
    assert access_tokens.verify(again, key_set(fetch_jwks(alice_client)), issuer=ISSUER, audience=JWE_API)[
        "authorization_details"
    ] == [MONEY_TRANSFER]


def test_rar_16_jwe_with_an_ec_key(alice_client, sealed_api):
    api_ec = jwk.JWK.generate(kty="EC", crv="P-256")
    sealed_api.encryption_key = api_ec.export_to_pem().decode()
    sealed_api.encryption_alg = "ECDH-ES+A256KW"
    sealed_api.encryption_enc = "A128GCM"
    sealed_api.full_clean()
    sealed_api.save()
    body = code_flow(alice_client, audience=JWE_API)
    header = header_of(body["access_token"])
    assert header["alg"] == "ECDH-ES+A256KW" and header["enc"] == "A128GCM"
    inner = access_tokens.decrypt(body["access_token"], api_ec)
    claims = access_tokens.verify(inner, key_set(fetch_jwks(alice_client)), issuer=ISSUER, audience=JWE_API)
    assert claims["authorization_details"] == [MONEY_TRANSFER]


def test_jwe_api_with_an_unusable_key_gives_server_error_not_a_plain_token(alice_client, sealed_api):
    # Saved around the admin validation (e.g. with update()): the token endpoint must not fall back.
    ResourceServer.objects.filter(pk=sealed_api.pk).update(encryption_key="garbage")
    request_uri = pushed_request_uri(alice_client, [MONEY_TRANSFER], audience=JWE_API)
    params = redirect_params(approve(alice_client, request_uri))
    response = exchange(alice_client, params["code"])
    assert response.status_code >= 400
    assert "access_token" not in response.json()
    assert response.json()["error"] == "server_error"


# --- admin validation of a JWE API --------------------------------------------------------------


def jwe_api(**fields) -> ResourceServer:
    return ResourceServer(name="API", identifier="urn:test:validation", access_token_format="jwe", **fields)


def validation_errors(api: ResourceServer) -> dict:
    with pytest.raises(ValidationError) as raised:
        api.full_clean()
    return raised.value.message_dict


def test_jwe_api_needs_an_encryption_key():
    errors = validation_errors(jwe_api(encryption_key=""))
    assert "encryption_key" in errors and "no key was given" in " ".join(errors["encryption_key"])


def test_jwe_api_refuses_garbage_key():
    assert "encryption_key" in validation_errors(jwe_api(encryption_key="not a key"))


def test_jwe_api_refuses_a_private_key(api_private_key):
    errors = validation_errors(jwe_api(encryption_key=api_private_key.export_private()))
    assert "private key" in " ".join(errors["encryption_key"])
    pem = api_private_key.export_to_pem(private_key=True, password=None).decode()
    assert "private key" in " ".join(validation_errors(jwe_api(encryption_key=pem))["encryption_key"])


def test_jwe_api_refuses_an_ec_key_with_rsa_oaep():
    ec = jwk.JWK.generate(kty="EC", crv="P-256").export_public()
    errors = validation_errors(jwe_api(encryption_key=ec, encryption_alg="RSA-OAEP-256"))
    assert "RSA-OAEP-256 needs an RSA key" in " ".join(errors["encryption_alg"])


def test_jwe_api_refuses_an_rsa_key_with_ecdh(api_private_key):
    errors = validation_errors(
        jwe_api(encryption_key=api_private_key.export_public(), encryption_alg="ECDH-ES+A256KW")
    )
    assert "needs an EC key" in " ".join(errors["encryption_alg"])


def test_jwe_api_with_a_public_key_is_valid(api_private_key):
    jwe_api(encryption_key=api_private_key.export_public()).full_clean()
    ec = jwk.JWK.generate(kty="EC", crv="P-384").export_to_pem().decode()
    jwe_api(encryption_key=ec, encryption_alg="ECDH-ES+A128KW").full_clean()


def test_jwt_api_needs_no_encryption_key():
    ResourceServer(name="API", identifier="urn:test:plain", access_token_format="jwt").full_clean()


def test_metadata_still_serves_when_signing_keys_are_broken(client, settings):
    settings.RAR_PROVIDER = {**settings.RAR_PROVIDER, "SIGNING_KEYS": [{"kty": "oct", "k": "c2VjcmV0"}]}
    response = client.get("/.well-known/oauth-authorization-server")
    assert response.status_code == 200
    data = response.json()
    assert "access_token_signing_alg_values_supported" not in data
    assert data["token_endpoint"].endswith("/oauth/token")
