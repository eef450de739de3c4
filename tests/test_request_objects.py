"""Signed request objects at the PAR endpoint (issue 12 point 3, FAPI-03; RFC 9101, RFC 9126 §3):
the request object's claims are the request, validated by the same table and pipeline; what it
may not carry, and every refusal, through the real endpoints."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from jwcrypto import jwk

from rar_provider.models import ClientPolicy, PushedAuthorizationRequest, TokenEndpointAuthMethod

from .conftest import (
    AUTHORIZE_URL,
    CONFIDENTIAL,
    FORM,
    ISSUER,
    MONEY_TRANSFER,
    PAR_URL,
    REDIRECT_URI,
    TOKEN_URL,
    approve,
    pkce_pair,
    push,
    redirect_params,
)
from .fapi_helpers import (
    FAPI_CLIENT,
    assertion_pairs,
    make_client,
    new_key,
    register_keys,
    request_object,
    sign,
)
from .strict_helpers import assert_oauth_json_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def key() -> jwk.JWK:
    return new_key("ES256")


@pytest.fixture
def fapi(key):
    return make_client(FAPI_CLIENT, key)


def push_object(client, key, token: str, *, extra=(), with_client_id: bool = False, **headers):
    pairs = [("request", token), *assertion_pairs(key), *extra]
    if with_client_id:
        pairs.insert(0, ("client_id", FAPI_CLIENT))
    return client.post(PAR_URL, urlencode(pairs), content_type=FORM, **headers)


def refused(response, error: str = "invalid_request_object", mentions: str | None = None) -> dict:
    body = assert_oauth_json_error(response, 400, error, mentions=mentions)
    assert not PushedAuthorizationRequest.objects.exists()
    return body


def test_a_signed_request_object_is_the_request_through_consent_and_token(alice_client, fapi, key):
    verifier, challenge = pkce_pair()
    token = request_object(
        key,
        authorization_details=[MONEY_TRANSFER],
        code_challenge=challenge,
        code_challenge_method="S256",
        resource=["urn:demo:payments"],
        unknown_claim={"ignored": True},
    )
    pushed = push_object(alice_client, key, token)
    assert pushed.status_code == 201, pushed.content
    record = PushedAuthorizationRequest.objects.get()
    stored = dict(map(tuple, record.parameters))
    # RFC 9101 §6.3: the claims are the request; authorization_details kept as the JSON text parsed.
    assert stored["client_id"] == FAPI_CLIENT and stored["state"] == "jar-1"
    assert json.loads(stored["authorization_details"]) == [MONEY_TRANSFER]
    assert stored["resource"] == "urn:demo:payments"
    assert not {"iss", "aud", "exp", "iat", "nbf", "jti", "unknown_claim", "request"} & set(stored)
    assert record.authorization_details == [MONEY_TRANSFER]

    page = alice_client.get(
        AUTHORIZE_URL, {"client_id": FAPI_CLIENT, "request_uri": pushed.json()["request_uri"]}
    )
    assert page.status_code == 200 and "Hanna Herwitz" in page.content.decode()
    params = redirect_params(approve(alice_client, pushed.json()["request_uri"], client_id=FAPI_CLIENT))
    assert params["state"] == "jar-1" and params["iss"] == ISSUER
    exchange = [
        ("grant_type", "authorization_code"),
        ("code", params["code"]),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", verifier),
        *assertion_pairs(key),
    ]
    response = alice_client.post(TOKEN_URL, urlencode(exchange), content_type=FORM)
    assert response.status_code == 200, response.content
    assert response.json()["authorization_details"] == [MONEY_TRANSFER]


def test_client_id_beside_the_request_object_must_agree(client, fapi, key):
    token = request_object(key, authorization_details=[MONEY_TRANSFER])
    assert push_object(client, key, token, with_client_id=True).status_code == 201


def test_a_client_secret_client_with_registered_keys_may_sign_its_requests(client, key):
    from oauth2_provider.models import get_application_model

    demo = get_application_model().objects.get(client_id="demo-client")
    register_keys(demo, key, method=TokenEndpointAuthMethod.ANY_SECRET)
    token = request_object(key, "demo-client", authorization_details=[MONEY_TRANSFER])
    response = client.post(PAR_URL, urlencode([("request", token)]), content_type=FORM, **CONFIDENTIAL)
    assert response.status_code == 201, response.content


def test_a_public_client_with_registered_keys_signs_without_authenticating(client, key):
    from oauth2_provider.models import get_application_model

    register_keys(get_application_model().objects.get(client_id="demo-public"), key, method="none")
    _, challenge = pkce_pair()
    token = request_object(
        key,
        "demo-public",
        authorization_details=[MONEY_TRANSFER],
        code_challenge=challenge,
        code_challenge_method="S256",
    )
    pairs = [("client_id", "demo-public"), ("request", token)]
    response = client.post(PAR_URL, urlencode(pairs), content_type=FORM)
    assert response.status_code == 201, response.content
    # Its client_id must be in the form: a public client is known by nothing else.
    again = request_object(
        key, "demo-public", authorization_details=[MONEY_TRANSFER], code_challenge=challenge
    )
    response = client.post(PAR_URL, urlencode([("request", again)]), content_type=FORM)
    assert_oauth_json_error(response, 400, "invalid_request", mentions="client_id is required")


@pytest.mark.parametrize(
    "changes, mentions",
    [
        ({"client_id": "demo-client"}, "client_id must be the client_id 'fapi-client', not 'demo-client'"),
        ({"drop": ("client_id",)}, "client_id must be the client_id 'fapi-client'; it is missing"),
        ({"iss": "demo-client"}, "iss must be the client_id"),
        ({"aud": "https://other.example"}, "aud 'https://other.example' is not this server"),
        ({"aud": ISSUER + "/oauth/par"}, "is not this server"),
        ({"drop": ("aud",)}, "no aud"),
        ({"drop": ("exp",)}, "no exp"),
        ({"lifetime": -120}, "has expired"),
        ({"lifetime": 3600}, "lives too long"),
        ({"nbf": 4102444800}, "nbf is in the future"),
        ({"header": {"typ": "at+jwt"}}, "typ 'at+jwt'"),
        ({"request_uri": "urn:ietf:params:oauth:request_uri:x"}, "request_uri must not appear inside"),
        ({"state": 7}, "state in a request object must be a string"),
        ({"state": "\ud800"}, "unpaired surrogate"),
        ({"resource": "urn:demo:pay\x00ments"}, "resource in a request object contains a NUL"),
        ({"resource": ["urn:demo:pay\x00ments"]}, "no NUL"),
    ],
    ids=lambda value: str(value)[:40],
)
def test_each_rule_of_the_request_object(client, fapi, key, changes, mentions):
    changes = dict(changes)
    token = request_object(
        key,
        drop=changes.pop("drop", ()),
        lifetime=changes.pop("lifetime", 60),
        header=changes.pop("header", None),
        **{"authorization_details": [MONEY_TRANSFER], **changes},
    )
    refused(push_object(client, key, token), mentions=mentions)


def test_a_request_object_signed_by_another_key_is_refused(client, fapi):
    impostor = new_key("ES256", "impostor")
    forged = request_object(impostor, header={"kid": "es256-1"}, authorization_details=[MONEY_TRANSFER])
    refused(push_object(client, new_key("ES256"), forged), mentions="signature does not verify")


def test_alg_none_and_hs256_request_objects_are_refused(client, fapi, key):
    claims = {"iss": FAPI_CLIENT, "client_id": FAPI_CLIENT, "aud": ISSUER, "response_type": "code"}
    refused(push_object(client, key, sign(None, claims, {"alg": "none"})), mentions="alg 'none'")
    hmac = jwk.JWK.generate(kty="oct", size=256)
    refused(push_object(client, key, sign(hmac, claims, {"alg": "HS256"})), mentions="alg 'HS256'")
    rsa = new_key("RS256")  # a real signature, with an algorithm the settings do not allow
    refused(push_object(client, key, sign(rsa, claims, {"alg": "RS256"})), mentions="alg 'RS256'")


def test_a_request_object_is_pushed_once(client, fapi, key):
    token = request_object(key, authorization_details=[MONEY_TRANSFER])
    assert push_object(client, key, token).status_code == 201
    response = push_object(client, key, token)
    assert_oauth_json_error(response, 400, "invalid_request_object", mentions="used already")
    # Without a jti the object itself is remembered.
    bare = request_object(key, drop=("jti",), authorization_details=[MONEY_TRANSFER])
    assert push_object(client, key, bare).status_code == 201
    assert_oauth_json_error(
        push_object(client, key, bare), 400, "invalid_request_object", mentions="used already"
    )
    assert PushedAuthorizationRequest.objects.count() == 2


def test_a_refused_push_does_not_use_up_the_request_object(client, fapi, key):
    token = request_object(key, authorization_details=[MONEY_TRANSFER])
    assert push_object(client, key, token, extra=[("client_secret", "x")]).status_code == 400
    assert push_object(client, key, token).status_code == 201


def test_only_client_id_and_client_authentication_beside_it(client, fapi, key):
    token = request_object(key, authorization_details=[MONEY_TRANSFER])
    response = push_object(client, key, token, extra=[("scope", "profile"), ("state", "other")])
    refused(response, "invalid_request", mentions="scope, state must not be sent beside request")


def test_authorization_details_inside_go_through_the_same_pipeline(client, fapi, key):
    as_text = request_object(key, authorization_details=json.dumps([MONEY_TRANSFER]))
    refused(
        push_object(client, key, as_text), "invalid_authorization_details", mentions="must be a JSON array"
    )
    unknown = request_object(key, authorization_details=[{"type": "no_such_type"}])
    refused(push_object(client, key, unknown), "invalid_authorization_details", mentions="no_such_type")
    wrong = request_object(key, authorization_details=[{**MONEY_TRANSFER, "instructedAmount": "lots"}])
    refused(push_object(client, key, wrong), "invalid_authorization_details", mentions="instructedAmount")


def test_the_table_applies_to_the_claims(client, fapi, key):
    missing = request_object(key, drop=("response_type",), authorization_details=[MONEY_TRANSFER])
    refused(push_object(client, key, missing), "invalid_request", mentions="response_type is required")
    plain = request_object(
        key, code_challenge="E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", code_challenge_method="plain"
    )
    refused(push_object(client, key, plain), "invalid_request", mentions="code_challenge_method")
    foreign_redirect = request_object(key, redirect_uri="https://evil.example/cb")
    refused(push_object(client, key, foreign_redirect), "invalid_request", mentions="redirect_uri")


def test_a_client_without_keys_cannot_sign(client, key):
    token = request_object(key, "demo-client", authorization_details=[MONEY_TRANSFER])
    response = client.post(PAR_URL, urlencode([("request", token)]), content_type=FORM, **CONFIDENTIAL)
    refused(response, mentions="has no registered public keys")


def test_an_encrypted_request_object_is_refused(client, fapi, key):
    response = push_object(client, key, "eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d")
    refused(response, mentions="request")


@pytest.mark.parametrize(
    "value",
    [
        "a.b.c",
        "e30.e30.",
        "W10.e30.AAAA",
        "eyJhbGciOiJFUzI1NiJ9.W10.AAAA",
        "eyJhbGciOiJFUzI1NiJ9.bm90IGpzb24.AAAA",
    ],
)
def test_malformed_request_objects_are_refused_never_a_500(client, fapi, key, value):
    refused(push_object(client, key, value))


# -- requiring them --------------------------------------------------------------------------------------


def test_a_client_that_must_sign_cannot_push_or_authorize_without(alice_client, fapi, key):
    ClientPolicy.objects.filter(application=fapi).update(require_signed_request_object=True)
    _, challenge = pkce_pair()
    plain = [
        ("client_id", FAPI_CLIENT),
        ("response_type", "code"),
        ("redirect_uri", REDIRECT_URI),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
        *assertion_pairs(key),
    ]
    response = alice_client.post(PAR_URL, urlencode(plain), content_type=FORM)
    refused(response, "invalid_request", mentions="signed request object")
    # Nor may it go round PAR on the front channel: request objects are taken at PAR only.
    front = alice_client.get(AUTHORIZE_URL, dict(plain[:5]))
    query = parse_qs(urlparse(front["Location"]).query)
    assert front.status_code == 302 and query["error"] == ["invalid_request"], query
    assert "Pushed authorization requests are required" in query["error_description"][0]
    assert (
        push_object(
            alice_client, key, request_object(key, authorization_details=[MONEY_TRANSFER])
        ).status_code
        == 201
    )


def test_the_server_may_require_them_of_every_client(client, settings):
    settings.RAR_PROVIDER = {**settings.RAR_PROVIDER, "REQUIRE_SIGNED_REQUEST_OBJECT": True}
    refused(push(client, [MONEY_TRANSFER]), "invalid_request", mentions="signed request object")
    metadata = client.get("/.well-known/oauth-authorization-server").json()
    assert metadata["require_signed_request_object"] is True
    assert metadata["require_pushed_authorization_requests"] is True


def test_the_front_channel_request_parameter_stays_refused(client, fapi, key):
    token = request_object(key, authorization_details=[MONEY_TRANSFER])
    query = {"client_id": FAPI_CLIENT, "response_type": "code", "redirect_uri": REDIRECT_URI}
    query["request"] = token
    response = client.get(AUTHORIZE_URL, query)
    error = (
        parse_qs(urlparse(response["Location"]).query)["error"]
        if response.status_code == 302
        else [response.context["error"]]
    )
    assert error == ["request_not_supported"]


def test_metadata_tells_about_request_objects(client, settings):
    data = client.get("/.well-known/oauth-authorization-server").json()
    assert data["request_parameter_supported"] is True
    assert data["request_object_signing_alg_values_supported"] == ["PS256", "ES256", "EdDSA"]
    assert data["require_signed_request_object"] is False
    settings.RAR_PROVIDER = {**settings.RAR_PROVIDER, "REQUEST_OBJECT_SIGNING_ALGS": ["PS256"]}
    assert client.get("/.well-known/oauth-authorization-server").json()[
        "request_object_signing_alg_values_supported"
    ] == ["PS256"]
