"""private_key_jwt client authentication (issue 12 point 1, FAPI-01; RFC 7523 §2.2, §3) through the
real PAR, token, introspection and revocation endpoints: a whole flow, then every rule refused with
``401 invalid_client`` and a description naming it — never a 500."""

from __future__ import annotations

import base64
import json
import time
from urllib.parse import urlencode

import pytest
from jwcrypto import jwk

from rar_provider.models import ClientPolicy, PushedAuthorizationRequest, TokenEndpointAuthMethod

from .conftest import (
    FORM,
    ISSUER,
    MONEY_TRANSFER,
    PAR_URL,
    REDIRECT_URI,
    TOKEN_URL,
    approve,
    basic,
    pkce_pair,
    redirect_params,
    request_params,
)
from .fapi_helpers import (
    ASSERTION_TYPE,
    FAPI_CLIENT,
    FAPI_SECRET,
    assertion,
    assertion_pairs,
    make_client,
    new_key,
    register_keys,
    sign,
)
from .strict_helpers import INTROSPECT_URL, REVOKE_URL, assert_oauth_json_error

pytestmark = pytest.mark.django_db


@pytest.fixture
def key() -> jwk.JWK:
    return new_key("ES256")


@pytest.fixture
def fapi(key):
    """A confidential client registered for private_key_jwt with one ES256 key."""
    return make_client(FAPI_CLIENT, key)


def post(client, url: str, pairs, **extra):
    return client.post(url, urlencode(pairs), content_type=FORM, **extra)


def par_pairs(**overrides) -> list[tuple[str, str]]:
    overrides.setdefault("code_challenge", pkce_pair()[1])
    params = request_params(
        [MONEY_TRANSFER], client_id=FAPI_CLIENT, code_challenge_method="S256", **overrides
    )
    return list(params.items())


def push_with(client, assertion_value: str | None, *, pairs=None, **extra):
    auth = [] if assertion_value is None else [("client_assertion_type", ASSERTION_TYPE)]
    auth += [] if assertion_value is None else [("client_assertion", assertion_value)]
    return post(client, PAR_URL, [*(pairs if pairs is not None else par_pairs()), *auth], **extra)


def refused(response, mentions: str) -> dict:
    body = assert_oauth_json_error(response, 401, "invalid_client", mentions=mentions)
    assert response["WWW-Authenticate"].startswith("Basic ")
    return body


# -- the whole flow --------------------------------------------------------------------------------------


def test_private_key_jwt_at_par_token_refresh_introspection_and_revocation(alice_client, fapi, key):
    verifier, challenge = pkce_pair()
    pairs = [*par_pairs(code_challenge=challenge), *assertion_pairs(key)]
    pushed = post(alice_client, PAR_URL, pairs)
    assert pushed.status_code == 201, pushed.content
    code = redirect_params(approve(alice_client, pushed.json()["request_uri"], client_id=FAPI_CLIENT))["code"]

    # RFC 7523 §3.1 / OIDC Core §9: client_id may be left out beside the assertion.
    exchange = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", verifier),
        *assertion_pairs(key),
    ]
    token = post(alice_client, TOKEN_URL, exchange)
    assert token.status_code == 200, token.content
    issued = token.json()
    assert issued["authorization_details"] == [MONEY_TRANSFER]

    refreshed = post(
        alice_client,
        TOKEN_URL,
        [("grant_type", "refresh_token"), ("refresh_token", issued["refresh_token"]), *assertion_pairs(key)],
    )
    assert refreshed.status_code == 200, refreshed.content
    access_token = refreshed.json()["access_token"]

    introspected = post(alice_client, INTROSPECT_URL, [("token", access_token), *assertion_pairs(key)])
    assert introspected.status_code == 200, introspected.content
    assert introspected.json()["active"] is True and introspected.json()["client_id"] == FAPI_CLIENT

    revoked = post(alice_client, REVOKE_URL, [("token", access_token), *assertion_pairs(key)])
    assert revoked.status_code == 200, revoked.content
    again = post(alice_client, INTROSPECT_URL, [("token", access_token), *assertion_pairs(key)])
    assert again.json() == {"active": False}


def test_client_credentials_with_private_key_jwt(client):
    from oauth2_provider.models import get_application_model

    service = get_application_model().objects.get(client_id="demo-service")
    key = new_key("PS256")
    register_keys(service, key)  # its client grant (account_information) stays
    response = post(
        client,
        TOKEN_URL,
        [
            ("grant_type", "client_credentials"),
            (
                "authorization_details",
                json.dumps([{"type": "account_information", "actions": ["read_balances"]}]),
            ),
            *assertion_pairs(key, "demo-service"),
        ],
    )
    assert response.status_code == 200, response.content
    # ... and its secret is refused now, however right.
    secret = post(
        client,
        TOKEN_URL,
        [("grant_type", "client_credentials")],
        **basic("demo-service", "demo-service-secret"),
    )
    refused(secret, "registered for private_key_jwt")


@pytest.mark.parametrize("alg", ["ES256", "PS256", "EdDSA"])
def test_each_default_algorithm_is_accepted(client, alg):
    key = new_key(alg)
    make_client(FAPI_CLIENT, key)
    assert push_with(client, assertion(key)).status_code == 201


def test_the_kid_picks_the_key_and_without_kid_only_a_single_key_is_tried(client):
    first, second = new_key("ES256", "first"), new_key("ES256", "second")
    make_client(FAPI_CLIENT, first, second)
    assert push_with(client, assertion(second)).status_code == 201
    refused(push_with(client, assertion(second, header={"kid": None})), "no kid")
    refused(push_with(client, assertion(first, header={"kid": "third"})), "'third' is not one of")
    # A key registered under one kid never verifies a JWS made with another key under that kid.
    refused(push_with(client, assertion(first, header={"kid": "second"})), "signature does not verify")
    register_keys(ClientPolicy.objects.get(application__client_id=FAPI_CLIENT).application, first)
    assert push_with(client, assertion(first, header={"kid": None})).status_code == 201


def test_par_needs_client_id_unless_a_request_object_carries_it(client, fapi, key):
    pairs = [(name, value) for name, value in par_pairs() if name != "client_id"]
    response = push_with(client, assertion(key), pairs=pairs)
    assert_oauth_json_error(response, 400, "invalid_request", mentions="client_id is required")


# -- every rule ------------------------------------------------------------------------------------------


def test_a_replayed_assertion_is_refused(client, fapi, key):
    once = assertion(key)
    assert push_with(client, once).status_code == 201
    refused(push_with(client, once), "used already")
    # The jti alone decides: a new assertion with the same jti is the same assertion.
    refused(push_with(client, assertion(key, jti=json.loads(_payload(once))["jti"])), "used already")
    assert PushedAuthorizationRequest.objects.count() == 1


def _payload(token: str) -> bytes:
    part = token.split(".")[1]
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


NOW = int(time.time())


@pytest.mark.parametrize(
    "changes, mentions",
    [
        ({"aud": ISSUER + "/oauth/token"}, "aud 'http://127.0.0.1:8000/oauth/token' is not this server"),
        ({"aud": ISSUER + "/oauth/par"}, "is not this server"),
        ({"aud": "https://other.example"}, "is not this server"),
        ({"aud": [ISSUER, "https://other.example"]}, "aud must be one string"),
        ({"aud": 7}, "aud must be one string"),
        ({"drop": ("aud",)}, "no aud"),
        ({"drop": ("exp",)}, "no exp"),
        ({"exp": NOW - 3600, "iat": NOW - 3660}, "has expired"),
        ({"lifetime": 3600}, "lives too long"),
        ({"exp": "soon"}, "exp is not a number"),
        ({"exp": True}, "exp is not a number"),
        ({"iat": NOW + 3600}, "iat is in the future"),
        ({"iat": NOW - 3600}, "exp - iat is more than 300 seconds"),
        ({"nbf": NOW + 3600}, "nbf is in the future"),
        ({"drop": ("jti",)}, "no jti"),
        ({"jti": 42}, "no jti"),
        ({"jti": "j" * 256}, "longer than 255"),
        ({"jti": "\ud800"}, "unpaired surrogate"),
        ({"iss": "someone-else"}, "iss must be the client_id"),
        ({"drop": ("iss",)}, "iss must be the client_id 'fapi-client'; it is missing"),
        ({"header": {"typ": "dpop+jwt"}}, "typ 'dpop+jwt'"),
        ({"header": {"crit": ["b64"], "b64": True}}, "crit"),
        ({"header": {"cty": "JWT"}}, "nested JWTs"),
    ],
    ids=lambda value: str(value)[:40],
)
def test_each_rule_of_the_assertion(client, fapi, key, changes, mentions):
    changes = dict(changes)
    drop = changes.pop("drop", ())
    lifetime = changes.pop("lifetime", 60)
    header = changes.pop("header", None)
    response = push_with(client, assertion(key, drop=drop, lifetime=lifetime, header=header, **changes))
    refused(response, mentions)
    assert not PushedAuthorizationRequest.objects.exists()


def test_a_one_element_audience_array_is_the_issuer(client, fapi, key):
    assert push_with(client, assertion(key, aud=[ISSUER])).status_code == 201


def test_the_endpoint_url_as_audience_only_when_allowed(client, fapi, key, settings):
    settings.RAR_PROVIDER = {**settings.RAR_PROVIDER, "CLIENT_ASSERTION_AUDIENCES": "issuer_or_endpoint"}
    assert push_with(client, assertion(key, aud=ISSUER + "/oauth/token")).status_code == 201
    assert push_with(client, assertion(key, aud=ISSUER + "/oauth/par")).status_code == 201
    refused(push_with(client, assertion(key, aud=ISSUER + "/oauth/introspect")), "is not this server")


def test_sub_must_be_the_client(client, fapi, key):
    response = push_with(client, assertion(key, sub="demo-client"))
    refused(response, "sub 'demo-client' is not client_id 'fapi-client'")
    # Without client_id in the body the sub names the client; then iss must agree.
    pairs = [(n, v) for n, v in par_pairs() if n != "client_id"]
    refused(push_with(client, assertion(key, iss="demo-client"), pairs=pairs), "iss must be the client_id")


def test_hs256_signed_with_the_client_secret_is_refused(client, fapi):
    # What a client_secret_jwt client would send (RFC 7523 §2.2 with HMAC): the secret is the key.
    secret = FAPI_SECRET.encode()
    secret_key = jwk.JWK(kty="oct", k=base64.urlsafe_b64encode(secret).rstrip(b"=").decode())
    token = sign(secret_key, json.loads(_payload(assertion(new_key()))), {"alg": "HS256"})
    refused(push_with(client, token), "alg 'HS256'; this server accepts PS256, ES256, EdDSA")


def test_alg_none_is_refused(client, fapi, key):
    claims = json.loads(_payload(assertion(key)))
    refused(push_with(client, sign(None, claims, {"alg": "none"})), "alg 'none'")
    refused(push_with(client, sign(None, claims, {"alg": "none", "kid": "es256-1"})), "alg 'none'")


def test_an_algorithm_the_settings_do_not_allow_is_refused(client, settings):
    key = new_key("PS256")
    make_client(FAPI_CLIENT, key)
    settings.RAR_PROVIDER = {**settings.RAR_PROVIDER, "CLIENT_ASSERTION_SIGNING_ALGS": ["ES256"]}
    refused(push_with(client, assertion(key)), "alg 'PS256'; this server accepts ES256")


def test_a_key_registered_for_another_alg_is_not_used(client, fapi, key):
    other = new_key("PS256", "es256-1")  # same kid, registered as ES256
    refused(push_with(client, assertion(other)), "registered for ES256, and the JWS says alg PS256")


@pytest.mark.parametrize(
    "value",
    [
        "a.b.c",
        "eyJhbGciOiJFUzI1NiJ9.e30.",
        "e30.e30.e30",
        "W10.e30.AAAA",  # header: []
        "eyJhbGciOiJFUzI1NiJ9.eyJleHAiOjFlNDAwfQ.AAAA",  # exp: 1e400
        "eyJhbGciOiJFUzI1NiJ9.W1tbW1tbW11dXV1dXV0.AAAA",  # payload: nested arrays
        "eyJhbGciOiJFUzI1NiIsImFsZyI6Im5vbmUifQ.e30.AAAA",  # a repeated header member
        "eyJhbGciOlsiRVMyNTYiXX0.e30.AAAA",  # alg: ["ES256"]
        "_-_-.eyJzdWIiOiJmYXBpLWNsaWVudCJ9.AAAA",
        "eyJhbGciOiJFUzI1NiJ9." + "A" * 7000 + ".AAAA",
    ],
)
def test_malformed_assertions_are_refused_never_a_500(client, fapi, value):
    for url, pairs in (
        (PAR_URL, par_pairs()),
        (TOKEN_URL, [("grant_type", "client_credentials"), ("client_id", FAPI_CLIENT)]),
        (INTROSPECT_URL, [("token", "x"), ("client_id", FAPI_CLIENT)]),
        (REVOKE_URL, [("token", "x"), ("client_id", FAPI_CLIENT)]),
    ):
        response = post(
            client, url, [*pairs, ("client_assertion_type", ASSERTION_TYPE), ("client_assertion", value)]
        )
        assert_oauth_json_error(response, 401, "invalid_client")


# -- one method per request, and the registered one ------------------------------------------------------


def test_a_private_key_jwt_client_trying_a_secret_is_refused(client, fapi):
    basic_auth = post(client, PAR_URL, par_pairs(), **basic(FAPI_CLIENT, FAPI_SECRET))
    refused(basic_auth, "registered for private_key_jwt; client_secret_basic is refused")
    body_auth = post(client, PAR_URL, [*par_pairs(), ("client_secret", FAPI_SECRET)])
    refused(body_auth, "client_secret_post is refused")
    token = post(
        client,
        TOKEN_URL,
        [("grant_type", "refresh_token"), ("refresh_token", "x")],
        **basic(FAPI_CLIENT, FAPI_SECRET),
    )
    refused(token, "client_secret_basic is refused")
    no_auth = post(
        client,
        TOKEN_URL,
        [("grant_type", "refresh_token"), ("refresh_token", "x"), ("client_id", FAPI_CLIENT)],
    )
    assert_oauth_json_error(no_auth, 401, "invalid_client")


def test_a_secret_client_cannot_use_an_assertion(client):
    key = new_key()
    pairs = [("grant_type", "client_credentials"), *assertion_pairs(key, "demo-service")]
    refused(post(client, TOKEN_URL, pairs), "'demo-service' is not registered for private_key_jwt")


def test_one_method_per_request(client, fapi, key):
    with_basic = push_with(client, assertion(key), **basic(FAPI_CLIENT, FAPI_SECRET))
    assert_oauth_json_error(
        with_basic, 400, "invalid_request", mentions="use one client authentication method"
    )
    with_secret = push_with(client, assertion(key), pairs=[*par_pairs(), ("client_secret", FAPI_SECRET)])
    assert_oauth_json_error(
        with_secret, 400, "invalid_request", mentions="use one client authentication method"
    )


def test_assertion_parameters_come_as_a_pair(client, fapi, key):
    only_assertion = post(client, PAR_URL, [*par_pairs(), ("client_assertion", assertion(key))])
    refused(
        only_assertion, "client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
    )
    only_type = post(client, PAR_URL, [*par_pairs(), ("client_assertion_type", ASSERTION_TYPE)])
    refused(only_type, "client_assertion is required")


@pytest.mark.parametrize(
    "method, allowed, refused_method",
    [
        (TokenEndpointAuthMethod.CLIENT_SECRET_BASIC, "basic", "post"),
        (TokenEndpointAuthMethod.CLIENT_SECRET_POST, "post", "basic"),
    ],
)
def test_a_registered_secret_method_is_the_only_one(client, method, allowed, refused_method):
    from oauth2_provider.models import get_application_model

    ClientPolicy.objects.update_or_create(
        application=get_application_model().objects.get(client_id="demo-service"),
        defaults={"token_endpoint_auth_method": method},
    )
    ways = {
        "basic": ([], basic("demo-service", "demo-service-secret")),
        "post": ([("client_id", "demo-service"), ("client_secret", "demo-service-secret")], {}),
    }
    extra, headers = ways[allowed]
    ok = post(client, TOKEN_URL, [("grant_type", "client_credentials"), *extra], **headers)
    assert ok.status_code == 200, ok.content
    extra, headers = ways[refused_method]
    refused(
        post(client, TOKEN_URL, [("grant_type", "client_credentials"), *extra], **headers),
        f"registered for {method};",
    )


@pytest.mark.parametrize("url", [TOKEN_URL, INTROSPECT_URL, REVOKE_URL, PAR_URL])
def test_every_endpoint_refuses_a_replay_and_the_token_endpoint_audience(client, fapi, key, url):
    base = {
        TOKEN_URL: [("grant_type", "refresh_token"), ("refresh_token", "unknown")],
        INTROSPECT_URL: [("token", "unknown")],
        REVOKE_URL: [("token", "unknown")],
        PAR_URL: par_pairs(),
    }[url]
    once = assertion(key)
    first = post(client, url, [*base, ("client_assertion_type", ASSERTION_TYPE), ("client_assertion", once)])
    assert first.status_code != 401, first.content  # authenticated (the unknown token is another matter)
    replay = post(client, url, [*base, ("client_assertion_type", ASSERTION_TYPE), ("client_assertion", once)])
    refused(replay, "used already")
    wrong_aud = assertion(key, aud=ISSUER + "/oauth/token")
    refused(
        post(
            client,
            url,
            [*base, *[("client_assertion_type", ASSERTION_TYPE), ("client_assertion", wrong_aud)]],
        ),
        "aud",
    )


def test_the_replay_cache_is_the_one_named(client, fapi, key, settings):
    from django.core.cache import caches

    locmem = "django.core.cache.backends.locmem.LocMemCache"
    settings.CACHES = {"default": {"BACKEND": locmem}, "replay": {"BACKEND": locmem, "LOCATION": "replay"}}
    settings.RAR_PROVIDER = {**settings.RAR_PROVIDER, "REPLAY_CACHE": "replay"}
    once = assertion(key)
    assert push_with(client, once).status_code == 201
    caches["default"].clear()
    refused(push_with(client, once), "used already")
    caches["replay"].clear()
    assert push_with(client, once).status_code == 201  # forgotten with its cache: that cache it was


# -- metadata --------------------------------------------------------------------------------------------


def test_metadata_tells_the_client_authentication_methods_and_algorithms(client, settings):
    data = client.get("/.well-known/oauth-authorization-server").json()
    for endpoint in ("token_endpoint", "revocation_endpoint", "introspection_endpoint"):
        assert "private_key_jwt" in data[f"{endpoint}_auth_methods_supported"]
        assert data[f"{endpoint}_auth_signing_alg_values_supported"] == ["PS256", "ES256", "EdDSA"]
    assert "none" in data["token_endpoint_auth_methods_supported"]
    assert "none" not in data["introspection_endpoint_auth_methods_supported"]
    settings.RAR_PROVIDER = {**settings.RAR_PROVIDER, "CLIENT_ASSERTION_SIGNING_ALGS": ["ES256"]}
    data = client.get("/.well-known/openid-configuration").json()
    assert data["token_endpoint_auth_signing_alg_values_supported"] == ["ES256"]


def test_rate_limits_count_an_assertion_by_the_client_it_names(client, fapi, key, settings):
    """Without client_id the assertion's sub names the client (not the caller's address)."""
    settings.RAR_PROVIDER = {**settings.RAR_PROVIDER, "RATE_LIMITS": {"token": "2/1h"}}
    pairs = [("grant_type", "refresh_token"), ("refresh_token", "unknown")]
    for _ in range(2):
        assert post(client, TOKEN_URL, [*pairs, *assertion_pairs(key)]).status_code == 400  # unknown token
    assert post(client, TOKEN_URL, [*pairs, *assertion_pairs(key)]).status_code == 429
    # Another client from the same address has its own count.
    other = new_key("ES256", "other")
    make_client("other-client", other)
    response = post(client, TOKEN_URL, [*pairs, *assertion_pairs(other, "other-client")])
    assert response.status_code == 400, response.content
