"""DPoP across two nodes (issue 12 with issue 11's cluster): one PostgreSQL database, one Redis cache.

A nonce handed out by node A is accepted by node B (they are HMACs of a time slot, nothing is
stored); a request bound to a key at PAR on A is exchanged on B only with a proof of that key; a
proof spent on one node is refused on the other (its ``jti`` is remembered in Redis), at the token
endpoint and at the Payments API alike.
"""

from __future__ import annotations

import pytest

from .dpop_helpers import PAR_HTU, TOKEN_HTU, DPoPKey
from .test_two_nodes import DEMO_CLIENT, DETAILS, TRANSFER, consent, logged_in
from .two_nodes import ISSUER, start_cluster

pytestmark = pytest.mark.postgresql

API_HTU = f"{ISSUER}/api/transfers/"  # the public origin both nodes' API names (DPOP_ORIGIN)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    started = start_cluster(tmp_path_factory.mktemp("two-nodes-dpop"))
    try:
        yield started
    finally:
        started.close()


def nonce_from(response) -> str:
    assert response.status_code == 400 and response.json()["error"] == "use_dpop_nonce", response.text
    return response.headers["DPoP-Nonce"]


def test_dpop_nonces_bindings_and_replays_hold_across_nodes(cluster):
    key = DPoPKey()
    par = {"client_id": "demo-client", "response_type": "code", "redirect_uri": f"{ISSUER}/demo/callback/"}
    par.update(state="s", authorization_details=DETAILS)
    first = cluster.call(
        "A", "POST", "/oauth/par", data=par, auth=DEMO_CLIENT, headers={"DPoP": key.proof(PAR_HTU)}
    )
    nonce = nonce_from(first)  # A's nonce, used on B
    pushed = cluster.call(
        "B",
        "POST",
        "/oauth/par",
        data=par,
        auth=DEMO_CLIENT,
        headers={"DPoP": key.proof(PAR_HTU, nonce=nonce)},
    )
    assert pushed.status_code == 201, pushed.text
    code = consent(cluster, logged_in(cluster, "A"), "A", pushed.json()["request_uri"])

    exchange = {"grant_type": "authorization_code", "code": code, "redirect_uri": par["redirect_uri"]}
    other = cluster.call(
        "B",
        "POST",
        "/oauth/token",
        data=exchange,
        auth=DEMO_CLIENT,
        headers={"DPoP": DPoPKey().proof(TOKEN_HTU, nonce=nonce)},
    )
    assert other.status_code == 400 and other.json()["error"] == "invalid_grant", other.text
    proof = key.proof(TOKEN_HTU, nonce=nonce)
    issued = cluster.call(
        "B", "POST", "/oauth/token", data=exchange, auth=DEMO_CLIENT, headers={"DPoP": proof}
    )
    assert issued.status_code == 200, issued.text
    token = issued.json()
    assert token["token_type"] == "DPoP" and issued.headers["DPoP-Nonce"]
    replayed = cluster.call(
        "A", "POST", "/oauth/token", data=exchange, auth=DEMO_CLIENT, headers={"DPoP": proof}
    )
    assert replayed.status_code == 400 and "already used" in replayed.json()["error_description"]

    api_proof = key.proof(API_HTU, access_token=token["access_token"])
    headers = {"Authorization": f"DPoP {token['access_token']}", "DPoP": api_proof}
    executed = cluster.call("A", "POST", "/api/transfers/", json=TRANSFER, headers=headers)
    assert executed.status_code == 201, executed.text
    again = cluster.call("B", "POST", "/api/transfers/", json=TRANSFER, headers=headers)
    assert again.status_code == 401 and "already used" in again.headers["WWW-Authenticate"]
