"""private_key_jwt, PAR, signed request objects and RAR against a live server, driven by an independent
client library, requests-oauth2client (issue 12 point 6, FAPI-01, FAPI-03).

The library discovers the server, signs its own client assertions (``PrivateKeyJwt``) and request
objects (``AuthorizationRequest.sign_request_jwt``), pushes the request, validates the callback
(``state``, ``iss``) and exchanges the code; alice's browser is a ``requests.Session`` as in
test_authlib_flow.py. Then what a FAPI 2.0 server must refuse, each as ``401 invalid_client``.
Loopback only.
"""

from __future__ import annotations

import json
import secrets
import time
from types import SimpleNamespace

import pytest
import requests
from jwskate import Jwk
from requests_oauth2client import (
    ClientSecretBasic,
    ClientSecretJwt,
    OAuth2Client,
    PrivateKeyJwt,
)
from requests_oauth2client.exceptions import InvalidClient

from .conftest import MONEY_TRANSFER, REDIRECT_URI
from .fapi_helpers import ASSERTION_TYPE, FAPI_CLIENT, FAPI_SECRET, make_client, new_key, sign
from .test_authlib_flow import browser_approves

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT = 10


@pytest.fixture
def issuer(live_server, load_demo_data, settings) -> str:
    """The live server as the issuer; the FAPI client registered with one ES256 key."""
    settings.RAR_PROVIDER = {**settings.RAR_PROVIDER, "ISSUER": live_server.url}
    return live_server.url


@pytest.fixture
def private_jwk(issuer) -> Jwk:
    key = new_key("ES256")
    make_client(FAPI_CLIENT, key)
    return Jwk(key.export_private(as_dict=True))


def oauth_client(issuer: str, auth) -> OAuth2Client:
    """requests-oauth2client configured from the server's metadata (http on loopback: ``testing``)."""
    return OAuth2Client.from_discovery_endpoint(
        f"{issuer}/.well-known/oauth-authorization-server",
        issuer=issuer,
        auth=auth,
        redirect_uri=REDIRECT_URI,
        testing=True,
    )


def private_key_jwt(private_jwk: Jwk, issuer: str, **kwargs) -> PrivateKeyJwt:
    # FAPI 2.0 §5.3.2.1: the assertion's audience is the issuer (the library's default is the URL called).
    return PrivateKeyJwt(FAPI_CLIENT, private_jwk, alg="ES256", aud=issuer, **kwargs)


def approve_and_exchange(oauth: OAuth2Client, issuer: str, authorization_request, pushed) -> dict:
    callback = browser_approves(issuer, pushed.uri)
    response = authorization_request.validate_callback(callback)  # state and iss (RFC 9207)
    token = oauth.authorization_code(response)
    assert token.token_type.lower() == "bearer"
    assert token.kwargs["authorization_details"] == [MONEY_TRANSFER]
    return token


def test_private_key_jwt_par_rar_consent_and_code_exchange(issuer, private_jwk):
    oauth = oauth_client(issuer, private_key_jwt(private_jwk, issuer))
    metadata = requests.get(f"{issuer}/.well-known/oauth-authorization-server", timeout=TIMEOUT).json()
    assert "private_key_jwt" in metadata["token_endpoint_auth_methods_supported"]
    assert "ES256" in metadata["token_endpoint_auth_signing_alg_values_supported"]

    authorization_request = oauth.authorization_request(
        scope=None,
        authorization_details=json.dumps([MONEY_TRANSFER]),
    )
    pushed = oauth.pushed_authorization_request(authorization_request)
    token = approve_and_exchange(oauth, issuer, authorization_request, pushed)

    refreshed = oauth.refresh_token(token)
    assert refreshed.access_token != token.access_token
    introspection = oauth.introspect_token(refreshed.access_token)
    assert introspection["active"] is True and introspection["client_id"] == FAPI_CLIENT
    assert introspection["authorization_details"] == [MONEY_TRANSFER]
    assert oauth.revoke_access_token(refreshed.access_token) is True
    assert oauth.introspect_token(refreshed.access_token) == {"active": False}


def test_a_signed_request_object_pushed_with_private_key_jwt(issuer, private_jwk):
    oauth = oauth_client(issuer, private_key_jwt(private_jwk, issuer))
    # RFC 9101 §4 / RFC 9126 §3: iss, aud and a jti beside the request's own parameters.
    authorization_request = oauth.authorization_request(
        scope=None,
        authorization_details=[MONEY_TRANSFER],  # a JSON array inside the request object (RFC 9396 §3)
        iss=FAPI_CLIENT,
        aud=issuer,
        jti=secrets.token_urlsafe(16),
    )
    request_jwt = authorization_request.sign_request_jwt(private_jwk, alg="ES256", lifetime=60)
    # pushed_authorization_request() posts what it is given as ``args``: the request object alone
    # (the client authentication adds client_id and the client assertion).
    signed = SimpleNamespace(args={"request": str(request_jwt)}, dpop_key=None)
    pushed = oauth.pushed_authorization_request(signed)
    approve_and_exchange(oauth, issuer, authorization_request, pushed)
    # The same request object again is a replay.
    with pytest.raises(Exception) as raised:
        oauth.pushed_authorization_request(signed)
    assert raised.value.response.status_code == 400
    assert raised.value.response.json()["error"] == "invalid_request_object"


def refused_at_par(oauth: OAuth2Client, mentions: str) -> None:
    authorization_request = oauth.authorization_request(
        scope=None, authorization_details=json.dumps([MONEY_TRANSFER])
    )
    with pytest.raises(InvalidClient) as raised:
        oauth.pushed_authorization_request(authorization_request)
    assert raised.value.response.status_code == 401
    assert raised.value.error == "invalid_client"
    assert mentions in raised.value.description, raised.value.description


def test_a_replayed_client_assertion_is_refused(issuer, private_jwk):
    oauth = oauth_client(issuer, private_key_jwt(private_jwk, issuer, jti_gen=lambda: "always-the-same"))
    oauth.pushed_authorization_request(
        oauth.authorization_request(scope=None, authorization_details=json.dumps([MONEY_TRANSFER]))
    )
    refused_at_par(oauth, "used already")


def test_an_assertion_for_the_endpoint_url_is_refused(issuer, private_jwk):
    # The library's default audience: the URL of the endpoint called. Only the issuer is accepted.
    oauth = oauth_client(issuer, PrivateKeyJwt(FAPI_CLIENT, private_jwk, alg="ES256"))
    refused_at_par(oauth, "is not this server")
    with pytest.raises(InvalidClient) as raised:
        oauth.refresh_token("any-refresh-token")
    assert "/oauth/token' is not this server" in raised.value.description


def test_hs256_with_the_client_secret_is_refused(issuer, private_jwk):
    oauth = oauth_client(issuer, ClientSecretJwt(FAPI_CLIENT, FAPI_SECRET, alg="HS256", aud=issuer))
    refused_at_par(oauth, "alg 'HS256'")


def test_an_expired_assertion_is_refused(issuer, private_jwk):
    oauth = oauth_client(issuer, private_key_jwt(private_jwk, issuer, lifetime=-120))
    refused_at_par(oauth, "has expired")


def test_the_private_key_jwt_client_may_not_use_its_secret(issuer, private_jwk):
    oauth = oauth_client(issuer, ClientSecretBasic(FAPI_CLIENT, FAPI_SECRET))
    refused_at_par(oauth, "registered for private_key_jwt; client_secret_basic is refused")


def test_alg_none_is_refused(issuer, private_jwk):
    now = int(time.time())
    claims = {"iss": FAPI_CLIENT, "sub": FAPI_CLIENT, "aud": issuer, "exp": now + 60, "jti": "n-1"}
    response = requests.post(
        f"{issuer}/oauth/token",
        data={
            "grant_type": "refresh_token",
            "refresh_token": "any",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": sign(None, claims, {"alg": "none"}),
        },
        timeout=TIMEOUT,
    )
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"
    assert "alg 'none'" in response.json()["error_description"]
