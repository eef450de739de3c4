"""DPoP end to end with an independent client library, requests-oauth2client, against a live server.

The library discovers the server, pushes the request with a ``DPoP`` proof and ``dpop_jkt`` (RFC 9449
§10.1), the "browser" (a requests.Session) logs alice in and approves, the library exchanges the code
with a proof (it reads ``token_type: DPoP`` and keeps the key) and calls the demo Payments API with
``Authorization: DPoP`` and a proof per request (§7). Its thumbprints, proofs and ``ath`` are its own
code (jwskate), not ours. RFC 9396 it does not know: ``authorization_details`` is an extra parameter.
"""

from __future__ import annotations

import json
import re

import pytest
import requests
from requests_oauth2client import DPoPKey, DPoPToken, OAuth2Client
from requests_oauth2client.exceptions import InvalidGrant

from demo_site.payments.models import Transfer
from rar_provider import access_tokens
from rar_provider.models import PushedAuthorizationRequest

from .conftest import MONEY_TRANSFER, REDIRECT_URI
from .test_authlib_flow import browser_approves, fetch_key_set
from .test_demo_api import APPROVED
from .test_rar_endpoints import ACCOUNT_INFORMATION

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT = 10


@pytest.fixture
def server(live_server, load_demo_data, settings) -> str:
    settings.RAR_PROVIDER = {**settings.RAR_PROVIDER, "ISSUER": live_server.url}
    return live_server.url


@pytest.fixture
def make_client(server):
    """OAuth2Clients from the server's metadata (closed after the test)."""
    made: list[OAuth2Client] = []

    def make(client_id: str = "demo-client", client_secret: str | None = "demo-secret") -> OAuth2Client:
        client = OAuth2Client.from_discovery_endpoint(
            f"{server}/.well-known/oauth-authorization-server",
            issuer=server,
            client_id=client_id,
            client_secret=client_secret,
            redirect_uri=REDIRECT_URI,
            testing=True,  # http on loopback
            dpop_bound_access_tokens=True,
        )
        made.append(client)
        return client

    yield make
    for client in made:
        client.session.close()


def approved_token(client: OAuth2Client, server: str, details: list[dict]) -> DPoPToken:
    """PAR with DPoP → alice approves → the code exchanged with a proof of the same key."""
    request = client.authorization_request(scope=None, authorization_details=json.dumps(details), dpop=True)
    pushed = client.pushed_authorization_request(request)
    callback = browser_approves(server, pushed.uri)
    token = client.authorization_code(request.validate_callback(callback))
    assert isinstance(token, DPoPToken) and token.token_type == "DPoP"
    assert token.dpop_key is request.dpop_key
    return token


def claims(token: str, server: str) -> dict:
    metadata = requests.get(f"{server}/.well-known/oauth-authorization-server", timeout=TIMEOUT).json()
    return access_tokens.verify(token, fetch_key_set(metadata), issuer=server, audience="urn:demo:payments")


def call(url: str, token: str, *, scheme="DPoP", proof=None, method="POST") -> requests.Response:
    headers = {"Authorization": f"{scheme} {token}"}
    if proof is not None:
        headers["DPoP"] = str(proof)
    return requests.request(method, url, json=APPROVED, headers=headers, timeout=TIMEOUT)


def challenge(response: requests.Response) -> dict[str, str]:
    """The parameters of the response's ``WWW-Authenticate: DPoP`` challenge (RFC 9449 §7.1)."""
    header = response.headers["WWW-Authenticate"]
    assert header.startswith("DPoP "), header
    return dict(re.findall(r'(\w+)="([^"]*)"', header))


def ath(token: str) -> str:
    from binapy import BinaPy

    return BinaPy(token).to("sha256").to("b64u").decode()


def test_par_dpop_code_exchange_and_a_bound_call_to_the_payments_api(make_client, server):
    client = make_client()
    token = approved_token(client, server, [MONEY_TRANSFER])
    key = token.dpop_key
    # The binding the library computed (jwskate) is the one the server put everywhere.
    assert ["dpop_jkt", key.dpop_jkt] in PushedAuthorizationRequest.objects.get().parameters
    assert claims(token.access_token, server)["cnf"] == {"jkt": key.dpop_jkt}
    url = f"{server}/api/transfers/"

    without = call(url, token.access_token, scheme="Bearer")
    assert without.status_code == 401 and challenge(without)["error"] == "invalid_token"
    assert without.headers["WWW-Authenticate"].startswith("DPoP ")
    no_proof = call(url, token.access_token)
    assert no_proof.status_code == 401 and challenge(no_proof)["error"] == "invalid_dpop_proof"
    other_key = DPoPKey.generate().proof(htm="POST", htu=url, ath=ath(token.access_token))
    response = call(url, token.access_token, proof=other_key)
    assert response.status_code == 401 and "not the one the token is bound to" in response.text
    other_url = key.proof(htm="POST", htu=f"{server}/api/other/", ath=ath(token.access_token))
    response = call(url, token.access_token, proof=other_url)
    assert response.status_code == 401 and "(htu)" in challenge(response)["error_description"]
    assert not Transfer.objects.exists()

    executed = requests.post(url, json=APPROVED, auth=token, timeout=TIMEOUT)  # the library's own proof
    assert executed.status_code == 201, executed.text
    assert Transfer.objects.get().token_jti == claims(token.access_token, server)["jti"]

    # A fresh proof passes authentication (the approval is spent: 403); the same proof again is a replay.
    proof = key.proof(htm="POST", htu=url, ath=ath(token.access_token))
    assert call(url, token.access_token, proof=proof).status_code == 403
    replayed = call(url, token.access_token, proof=proof)
    assert replayed.status_code == 401 and "already used" in challenge(replayed)["error_description"]


def test_narrowing_refresh_with_dpop_stays_bound(make_client, server):
    client = make_client()
    token = approved_token(client, server, [MONEY_TRANSFER, ACCOUNT_INFORMATION])
    narrowed = client.refresh_token(token, authorization_details=json.dumps([ACCOUNT_INFORMATION]))
    assert isinstance(narrowed, DPoPToken) and narrowed.token_type == "DPoP"
    assert narrowed.dpop_key is token.dpop_key
    assert narrowed.kwargs["authorization_details"] == [ACCOUNT_INFORMATION]
    narrowed_claims = claims(narrowed.access_token, server)
    assert narrowed_claims["cnf"] == {"jkt": token.dpop_key.dpop_jkt}
    assert narrowed_claims["authorization_details"] == [ACCOUNT_INFORMATION]
    url = f"{server}/api/transfers/"
    listed = requests.get(url, auth=narrowed, timeout=TIMEOUT)
    assert listed.status_code == 200 and listed.json() == {"transfers": []}
    assert (
        requests.get(
            url, headers={"Authorization": f"Bearer {narrowed.access_token}"}, timeout=10
        ).status_code
        == 401
    )


def test_a_public_clients_refresh_token_needs_its_key(make_client, server):
    client = make_client("demo-public", None)
    token = approved_token(client, server, [MONEY_TRANSFER])
    with pytest.raises(InvalidGrant, match="not the one this refresh token is bound to"):
        client.token_request(
            {"grant_type": "refresh_token", "refresh_token": token.refresh_token}, dpop_key=DPoPKey.generate()
        )
    refreshed = client.refresh_token(token)
    assert claims(refreshed.access_token, server)["cnf"] == {"jkt": token.dpop_key.dpop_jkt}


def test_server_nonces_are_followed_by_the_library(make_client, server, settings):
    """RFC 9449 §8: the library answers use_dpop_nonce at PAR and token by retrying with the nonce."""
    settings.RAR_PROVIDER = {**settings.RAR_PROVIDER, "DPOP_NONCE_REQUIRED": True}
    client = make_client()
    token = approved_token(client, server, [MONEY_TRANSFER])
    assert token.dpop_key.as_nonce
    assert (
        requests.post(f"{server}/api/transfers/", json=APPROVED, auth=token, timeout=TIMEOUT).status_code
        == 201
    )
