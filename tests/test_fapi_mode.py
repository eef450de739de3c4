"""The FAPI 2.0 Security Profile mode (issue 12 point 4, rar_provider.fapi): what it refuses, through
the real endpoints, and a whole flow with an independent client library, requests-oauth2client.

docs/fapi.md maps each requirement of the profile to the test here (or elsewhere) that covers it.
"""

from __future__ import annotations

import json
from io import StringIO

import pytest
import requests
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.utils import timezone
from jwskate import Jwk
from oauth2_provider.models import AccessToken
from requests_oauth2client import DPoPKey, DPoPToken, OAuth2Client, PrivateKeyJwt

from demo_site.payments.models import Transfer
from rar_provider.models import AuthorizationGrant, ResourceServer, sha256_hex

from .conftest import AUTHORIZE_URL, MONEY_TRANSFER, REDIRECT_URI, push, redirect_params, request_params
from .fapi_helpers import FAPI_CLIENT, make_client, new_key
from .test_authlib_flow import browser_approves
from .test_demo_api import APPROVED
from .test_rar_endpoints import ACCOUNT_INFORMATION

TIMEOUT = 10
FAPI_ON = {"FAPI_2_0": True}


def refused(response, status: int, error: str, clause: str) -> None:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["error"] == error and clause in body["error_description"], body


# -- what the mode refuses (Django test client) --------------------------------------------------


@pytest.mark.django_db
def test_a_client_with_a_shared_secret_cannot_push(client, settings):
    settings.RAR_PROVIDER = {**settings.RAR_PROVIDER, **FAPI_ON}
    refused(push(client, [MONEY_TRANSFER]), 400, "unauthorized_client", "§5.3.2.1 clause 6")


@pytest.mark.django_db
def test_a_front_channel_request_is_refused(alice_client, settings):
    settings.RAR_PROVIDER = {**settings.RAR_PROVIDER, **FAPI_ON}
    params = redirect_params(alice_client.get(AUTHORIZE_URL, request_params([MONEY_TRANSFER])))
    assert params["error"] == "invalid_request" and "§5.3.2.2 clause 3" in params["error_description"]
    assert not AuthorizationGrant.objects.exists()


@pytest.mark.django_db
def test_the_per_api_flag_applies_the_profile_to_that_api_only(client, settings):
    assert push(client, [MONEY_TRANSFER]).status_code == 201  # off: the demo client pushes
    ResourceServer.objects.filter(identifier="urn:demo:payments").update(fapi_2_0=True)
    refused(push(client, [MONEY_TRANSFER]), 400, "unauthorized_client", "§5.3.2.1 clause 6")


# -- the system checks name the clause ------------------------------------------------------------


@pytest.mark.django_db
def test_the_checks_report_configuration_and_clients_that_break_the_profile(settings):
    settings.RAR_PROVIDER = {**settings.RAR_PROVIDER, **FAPI_ON, "DPOP_SIGNING_ALGS": ["ES256", "RS256"]}
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "AUTHORIZATION_CODE_EXPIRE_SECONDS": 600}
    with pytest.raises(SystemCheckError) as raised:
        call_command("check", "--database", "default")
    text = str(raised.value)
    assert "rar_provider.E051" in text and "§5.3.2.1 clause 11" in text  # code lifetime
    assert "rar_provider.E054" in text and "DPOP_SIGNING_ALGS allows RS256" in text
    assert "rar_provider.E053" in text  # the test signing key signs RS256
    assert (
        "rar_provider.E057" in text
        and "'demo-client' is not a confidential client using private_key_jwt" in text
    )


@pytest.mark.django_db
def test_the_checks_are_silent_when_the_profile_is_off():
    call_command("check", "--database", "default")  # raises on any error


# -- a whole flow, and the refusals, with requests-oauth2client on a live server ------------------


@pytest.fixture
def fapi_server(live_server, load_demo_data, settings) -> str:
    """The live server in FAPI 2.0 mode (PS256 signing key), and the FAPI client's private key."""
    settings.RAR_PROVIDER = {**settings.RAR_PROVIDER, **FAPI_ON, "ISSUER": live_server.url}
    # Every entry approved as shown (the helper browser posts the form as it is, no ticking).
    ResourceServer.objects.update(allow_partial_approval=False)
    return live_server.url


@pytest.fixture
def fapi_key(fapi_server) -> Jwk:
    key = new_key("ES256")
    make_client(FAPI_CLIENT, key)
    return Jwk(key.export_private(as_dict=True))


def fapi_client(server: str, key: Jwk) -> OAuth2Client:
    return OAuth2Client.from_discovery_endpoint(
        f"{server}/.well-known/oauth-authorization-server",
        issuer=server,
        auth=PrivateKeyJwt(FAPI_CLIENT, key, alg="ES256", aud=server),
        redirect_uri=REDIRECT_URI,
        testing=True,  # http on loopback (RFC 8252 §7.3)
        dpop_bound_access_tokens=True,
    )


pytestmark_live = pytest.mark.django_db(transaction=True)


@pytestmark_live
def test_the_fapi_flow_par_consent_token_refresh_and_a_bound_api_call(fapi_server, fapi_key):
    client = fapi_client(fapi_server, fapi_key)
    details = [MONEY_TRANSFER, ACCOUNT_INFORMATION]
    request = client.authorization_request(scope=None, authorization_details=json.dumps(details), dpop=True)
    assert request.code_challenge_method == "S256"
    pushed = client.pushed_authorization_request(request)
    token = client.authorization_code(request.validate_callback(browser_approves(fapi_server, pushed.uri)))
    assert isinstance(token, DPoPToken) and token.token_type == "DPoP"
    assert token.kwargs["authorization_details"] == details

    url = f"{fapi_server}/api/transfers/"
    executed = requests.post(url, json=APPROVED, auth=token, timeout=TIMEOUT)
    assert executed.status_code == 201, executed.text
    bearer = requests.post(
        url, json=APPROVED, headers={"Authorization": f"Bearer {token.access_token}"}, timeout=10
    )
    assert bearer.status_code == 401 and bearer.headers["WWW-Authenticate"].startswith("DPoP ")
    assert Transfer.objects.count() == 1

    # §5.3.2.1 clause 9: no rotation — the same refresh token comes back and may be used again.
    narrowed = client.refresh_token(token, authorization_details=json.dumps([ACCOUNT_INFORMATION]))
    assert isinstance(narrowed, DPoPToken) and narrowed.refresh_token == token.refresh_token
    assert narrowed.kwargs["authorization_details"] == [ACCOUNT_INFORMATION]
    again = client.refresh_token(token)
    assert again.refresh_token == token.refresh_token and again.kwargs["authorization_details"] == details
    listed = requests.get(url, auth=again, timeout=TIMEOUT)
    assert listed.status_code == 200 and len(listed.json()["transfers"]) == 1


def token_request(server: str, data: dict, headers: dict | None = None) -> requests.Response:
    return requests.post(f"{server}/oauth/token", data=data, headers=headers or {}, timeout=TIMEOUT)


@pytestmark_live
def test_the_fapi_refusals_replayed_assertion_replayed_proof_and_bearer_requests(fapi_server, fapi_key):
    client = fapi_client(fapi_server, fapi_key)
    request = client.authorization_request(
        scope=None, authorization_details=json.dumps([MONEY_TRANSFER]), dpop=True
    )
    pushed = client.pushed_authorization_request(request)
    response = request.validate_callback(browser_approves(fapi_server, pushed.uri))
    auth = PrivateKeyJwt(FAPI_CLIENT, fapi_key, alg="ES256", aud=fapi_server)
    assertion = str(auth.client_assertion(fapi_server))
    exchange = {
        "grant_type": "authorization_code",
        "code": response.code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": request.code_verifier,
        "client_id": FAPI_CLIENT,
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": assertion,
    }
    # The code is bound to the PAR's DPoP key (RFC 9449 §10): without a proof, invalid_grant.
    refused(token_request(fapi_server, exchange), 400, "invalid_grant", "RFC 9449 §10")
    # The assertion was spent by that request: replayed, it is refused.
    proof = request.dpop_key.proof(htm="POST", htu=f"{fapi_server}/oauth/token")
    refused(token_request(fapi_server, exchange, {"DPoP": str(proof)}), 401, "invalid_client", "")
    # A fresh assertion with a replayed DPoP proof: refused.
    exchange["client_assertion"] = str(auth.client_assertion(fapi_server))
    replayed = token_request(fapi_server, exchange, {"DPoP": str(proof)})
    assert replayed.status_code == 400 and replayed.json()["error"] == "invalid_dpop_proof"
    # A fresh assertion and a fresh proof of the bound key: the code is exchanged.
    exchange["client_assertion"] = str(auth.client_assertion(fapi_server))
    fresh = request.dpop_key.proof(htm="POST", htu=f"{fapi_server}/oauth/token")
    done = token_request(fapi_server, exchange, {"DPoP": str(fresh)})
    assert done.status_code == 200 and done.json()["token_type"] == "DPoP", done.text
    # A proof of another key for the bound token at the API: refused.
    access_token = done.json()["access_token"]
    other = DPoPKey.generate().proof(htm="GET", htu=f"{fapi_server}/api/transfers/", ath=_ath(access_token))
    api = requests.get(
        f"{fapi_server}/api/transfers/",
        headers={"Authorization": f"DPoP {access_token}", "DPoP": str(other)},
        timeout=TIMEOUT,
    )
    assert api.status_code == 401


@pytestmark_live
def test_a_bearer_token_request_is_refused_in_fapi_mode(fapi_server, fapi_key):
    """A request pushed without DPoP (no binding) still cannot get a bearer token (§5.3.2.1 clause 4)."""
    client = fapi_client(fapi_server, fapi_key)
    request = client.authorization_request(
        scope=None, authorization_details=json.dumps([MONEY_TRANSFER]), dpop=False
    )
    pushed = client.pushed_authorization_request(request)
    response = request.validate_callback(browser_approves(fapi_server, pushed.uri))
    auth = PrivateKeyJwt(FAPI_CLIENT, fapi_key, alg="ES256", aud=fapi_server)
    exchange = {
        "grant_type": "authorization_code",
        "code": response.code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": request.code_verifier,
        "client_id": FAPI_CLIENT,
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": str(auth.client_assertion(fapi_server)),
    }
    refused(token_request(fapi_server, exchange), 400, "invalid_dpop_proof", "§5.3.2.1 clause 4")
    assert not AccessToken.objects.exists()


def _ath(token: str) -> str:
    from binapy import BinaPy

    return BinaPy(token).to("sha256").to("b64u").decode()


# -- the client's own request: PKCE S256 and https redirect URIs ----------------------------------


def fapi_push(client, key, **overrides):
    from urllib.parse import urlencode

    from .conftest import PAR_URL, pkce_pair
    from .fapi_helpers import assertion_pairs

    pkce = {"code_challenge": pkce_pair()[1], "code_challenge_method": "S256"}
    params = {**request_params([MONEY_TRANSFER], client_id=FAPI_CLIENT), **pkce, **overrides}
    pairs = [(name, value) for name, value in params.items() if value is not None]
    return client.post(
        PAR_URL, urlencode(pairs + assertion_pairs(key)), content_type="application/x-www-form-urlencoded"
    )


@pytest.mark.django_db
def test_a_fapi_client_pushes_with_pkce_s256_and_an_https_or_loopback_redirect_uri(client, settings):
    settings.RAR_PROVIDER = {**settings.RAR_PROVIDER, **FAPI_ON}
    key = new_key("ES256")
    application = make_client(FAPI_CLIENT, key)
    assert fapi_push(client, key).status_code == 201  # http://127.0.0.1:… is a loopback IP (RFC 8252 §7.3)
    refused(
        fapi_push(client, key, code_challenge=None, code_challenge_method=None),
        400,
        "invalid_request",
        "§5.3.2.2 clause 5",
    )
    application.redirect_uris = "http://bank.example/callback"
    application.save()
    refused(
        fapi_push(client, key, redirect_uri="http://bank.example/callback"),
        400,
        "invalid_request",
        "§5.3.2.2 clause 8",
    )


@pytest.mark.django_db
def test_a_pushed_request_without_redirect_uri_is_refused(client, settings):
    """§5.3.2.2 clause 6: redirect_uri is required in pushed requests (always, here)."""
    settings.RAR_PROVIDER = {**settings.RAR_PROVIDER, **FAPI_ON}
    key = new_key("ES256")
    make_client(FAPI_CLIENT, key)
    response = fapi_push(client, key, redirect_uri=None)
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"
    assert "redirect_uri is required" in response.json()["error_description"]


def test_signing_keys_must_use_fapi_algorithms_and_rsa_keys_2048_bits(settings):
    """§5.4 clauses 1.2 and 2: E053 names an RS256 key and an RSA key under 2048 bits."""
    from jwcrypto import jwk

    from rar_provider.checks.fapi import check_fapi_settings

    small = jwk.JWK.generate(kty="RSA", size=1024, kid="small")
    small_ps256 = json.loads(small.export_private())
    small_ps256["alg"] = "PS256"
    good = json.loads(jwk.JWK.generate(kty="EC", crv="P-256", kid="good").export_private())
    settings.RAR_PROVIDER = {**settings.RAR_PROVIDER, **FAPI_ON, "SIGNING_KEYS": [small_ps256, good]}
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "AUTHORIZATION_CODE_EXPIRE_SECONDS": 60}
    messages = [error.msg for error in check_fapi_settings() if error.id == "rar_provider.E053"]
    assert messages == [
        "Signing key 'small' is an RSA key under 2048 bits (FAPI 2.0 Security Profile §5.4 clause 2)."
    ]
    settings.RAR_PROVIDER = {**settings.RAR_PROVIDER, "SIGNING_KEYS": [good]}
    assert check_fapi_settings() == []


@pytestmark_live
def test_the_demo_fapi_client_completes_the_flow_in_fapi_mode(fapi_server, tmp_path, settings):
    """Issue 12, done when: the demo's FAPI client (keys from rar_demo_fapi_client), driven by
    requests-oauth2client, goes PAR → consent → token → refresh → API call with private_key_jwt and
    DPoP in FAPI mode."""
    key_file = tmp_path / "demo-fapi-key.json"
    settings.DEMO_FAPI_KEY_FILE = str(key_file)
    call_command("rar_demo_fapi_client", "--key-file", str(key_file), stdout=StringIO())
    (private,) = json.loads(key_file.read_text())["keys"]
    key = Jwk(private)
    client = OAuth2Client.from_discovery_endpoint(
        f"{fapi_server}/.well-known/oauth-authorization-server",
        issuer=fapi_server,
        auth=PrivateKeyJwt("demo-fapi", key, alg=private.get("alg", "ES256"), aud=fapi_server),
        redirect_uri=REDIRECT_URI,
        testing=True,
        dpop_bound_access_tokens=True,
    )
    request = client.authorization_request(
        scope=None, authorization_details=json.dumps([MONEY_TRANSFER]), dpop=True
    )
    pushed = client.pushed_authorization_request(request)
    token = client.authorization_code(request.validate_callback(browser_approves(fapi_server, pushed.uri)))
    assert isinstance(token, DPoPToken) and token.kwargs["authorization_details"] == [MONEY_TRANSFER]
    refreshed = client.refresh_token(token)
    assert isinstance(refreshed, DPoPToken) and refreshed.refresh_token == token.refresh_token
    url = f"{fapi_server}/api/transfers/"
    assert requests.post(url, json=APPROVED, auth=refreshed, timeout=TIMEOUT).status_code == 201
    bearer = requests.post(
        url, json=APPROVED, headers={"Authorization": f"Bearer {refreshed.access_token}"}, timeout=10
    )
    assert bearer.status_code == 401


@pytest.mark.postgresql
@pytestmark_live
def test_concurrent_refreshes_without_rotation_each_answer_their_token_and_one_stays_live(
    fapi_server, fapi_key
):
    """§5.3.2.1 clause 9 (no rotation), one refresh token sent by several requests at once (threads
    of the test, answered by the live server's threads, each on its own PostgreSQL connection): the
    refreshes queue on the grant's lock, each answers 200 with the same refresh token and a response
    describing its own access token (RFC 9396 §7), each replaces the access token issued before it
    (so exactly one — the last committed — stays live), and the grant is not revoked."""
    from .live_servers import jwt_claims
    from .test_grant_races import at_once

    details = [MONEY_TRANSFER, ACCOUNT_INFORMATION]
    client = fapi_client(fapi_server, fapi_key)
    request = client.authorization_request(scope=None, authorization_details=json.dumps(details), dpop=True)
    pushed = client.pushed_authorization_request(request)
    token = client.authorization_code(request.validate_callback(browser_approves(fapi_server, pushed.uri)))
    asked = [[MONEY_TRANSFER], [ACCOUNT_INFORMATION], details, [MONEY_TRANSFER]]

    def refresh(n: int):
        own = fapi_client(fapi_server, fapi_key)  # one client (session) per thread
        try:
            return own.refresh_token(token, authorization_details=json.dumps(asked[n]))
        except Exception as problem:  # noqa: BLE001 - reported by the assertion below
            return problem

    answers = at_once(len(asked), refresh)
    assert all(isinstance(answer, DPoPToken) for answer in answers), answers
    for wanted, answer in zip(asked, answers, strict=True):
        assert answer.refresh_token == token.refresh_token
        assert answer.kwargs["authorization_details"] == wanted
        assert jwt_claims(answer.access_token)["authorization_details"] == wanted
    grant = AuthorizationGrant.objects.get()
    assert grant.is_usable
    live = AccessToken.objects.filter(rar_issued__grant=grant, expires__gt=timezone.now())
    assert live.count() == 1
    assert live.get().token_checksum in {sha256_hex(answer.access_token) for answer in answers}
    again = client.refresh_token(token)
    assert again.kwargs["authorization_details"] == details


@pytest.mark.django_db
def test_a_bearer_token_issued_before_the_api_turned_fapi_is_refused_at_the_api(alice_client, client):
    """Found by the hostile review: the API's guard follows the API's FAPI flag too (§5.3.2.1 cl. 4)."""
    from .test_demo_api import post_transfer, token_from_code_flow

    bearer = token_from_code_flow(alice_client)
    ResourceServer.objects.filter(identifier="urn:demo:payments").update(fapi_2_0=True)
    refused_call = post_transfer(client, bearer, APPROVED)
    assert refused_call.status_code == 401
    assert (
        refused_call["WWW-Authenticate"].startswith("DPoP ")
        and "DPoP-bound" in refused_call["WWW-Authenticate"]
    )
    assert not Transfer.objects.exists()
    ResourceServer.objects.filter(identifier="urn:demo:payments").update(fapi_2_0=False)
    assert post_transfer(client, bearer, APPROVED).status_code == 201  # the flag, nothing else, refused it


@pytest.mark.django_db
def test_the_api_guard_reads_its_api_switches_once_per_request(alice_client, client):
    """Revocation check and FAPI flag come from one query on the registered API, not one each."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from .test_demo_api import post_transfer, token_from_code_flow

    bearer = token_from_code_flow(alice_client)
    with CaptureQueriesContext(connection) as queries:
        assert post_transfer(client, bearer, APPROVED).status_code == 201
    switches = [q["sql"] for q in queries if 'FROM "rar_provider_resourceserver"' in q["sql"]]
    assert len(switches) == 1, switches
