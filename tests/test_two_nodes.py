"""Many nodes (issue 11, point 4): two app servers sharing one PostgreSQL database and one Redis cache.

Nodes A and B are two gunicorn processes (2 workers each, DEBUG off) serving the demo
(tests/two_nodes.py). Shown here, over HTTP:

* a request pushed on A is authorized, consented and exchanged on B, and its token works on both;
* concurrent replays of one authorization code split across A and B leave exactly one winner, the
  others get ``400 invalid_grant`` JSON (no 500), and what the winner got is revoked everywhere;
* per-client rate limits count in Redis: requests split A/B meet the 429 at the same total as on
  one node;
* a signing-key rotation rolled out one node at a time (publish only → promote → retire, each step
  node by node, each node restarted onto its new key file) never rejects a valid token, while
  tokens from both nodes are used continuously at both nodes' Payments API, at introspection and at
  a resource server elsewhere that caches /oauth/jwks; the naive rotation is shown to reject them.
"""

from __future__ import annotations

import json
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from io import StringIO
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from django.core.management import call_command
from django.test import override_settings

from . import two_nodes
from .conftest import REDIRECT_URI, pkce_pair
from .live_servers import free_port
from .rotation_traffic import Traffic, jwt_parts
from .two_nodes import NODES, PAR_LIMIT, TIMEOUT, flush_redis, start_cluster

DEMO_CLIENT = ("demo-client", "demo-secret")
PAYMENTS_API = ("payments-api", "payments-api-secret")
#: Under the demo's step-up threshold (1,000): the consent page comes straight away.
TRANSFER = {
    "instructedAmount": {"amount": 25, "currency": "EUR"},
    "sourceAccount": "xxxxxxxxxxx1234",
    "destinationAccount": "xxxxxxxxxxx9876",
    "beneficiary": "Hanna Herwitz",
}
DETAILS = json.dumps([{"type": "money_transfer", **TRANSFER}])


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    started = start_cluster(tmp_path_factory.mktemp("two-nodes"))
    try:
        yield started
    finally:
        started.close()


def logged_in(cluster, node: str) -> requests.Session:
    session = requests.Session()
    cluster.call(node, "GET", "/accounts/login/", session)
    response = cluster.call(
        node,
        "POST",
        "/accounts/login/",
        session,
        data={
            "username": "alice",
            "password": "wonderland-42",
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
    )
    assert response.status_code == 302, response.text[:500]
    return session


def push(cluster, node: str, **params) -> requests.Response:
    data = {"client_id": "demo-client", "response_type": "code", "redirect_uri": REDIRECT_URI, **params}
    auth = DEMO_CLIENT if data["client_id"] == "demo-client" else None
    return cluster.call(node, "POST", "/oauth/par", data=data, auth=auth)


def consent(cluster, session, node: str, request_uri: str) -> str:
    """Authorization page and the user's approval on ``node``: the authorization code."""
    query = {"client_id": "demo-client", "request_uri": request_uri}
    page = cluster.call(node, "GET", "/oauth/authorize", session, params=query)
    assert page.status_code == 200, page.text[:500]
    transaction = re.search(r'name="transaction" value="([^"]+)"', page.text).group(1)
    form = {
        "transaction": transaction,
        "decision": "allow",
        "csrfmiddlewaretoken": session.cookies["csrftoken"],
    }
    decided = cluster.call(node, "POST", "/oauth/authorize", session, data=form)
    assert decided.status_code == 302, decided.text[:500]
    return parse_qs(urlparse(decided.headers["Location"]).query)["code"][0]


def exchange(cluster, node: str, code: str) -> requests.Response:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
    return cluster.call(node, "POST", "/oauth/token", data=data, auth=DEMO_CLIENT)


def introspect(cluster, node: str, token: str) -> dict:
    response = cluster.call(node, "POST", "/oauth/introspect", data={"token": token}, auth=PAYMENTS_API)
    assert response.status_code == 200, response.text
    return response.json()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.postgresql
def test_a_request_pushed_on_a_completes_on_b(cluster):
    session = logged_in(cluster, "A")
    pushed = push(cluster, "A", state="s", authorization_details=DETAILS)
    assert pushed.status_code == 201, pushed.text
    code = consent(cluster, session, "B", pushed.json()["request_uri"])
    response = exchange(cluster, "B", code)
    assert response.status_code == 200, response.text
    token = response.json()
    assert token["authorization_details"][0]["instructedAmount"] == TRANSFER["instructedAmount"]
    header, claims = jwt_parts(token["access_token"])
    assert header["typ"] == "at+jwt" and claims["aud"] == "urn:demo:payments"
    # Executed once on A; B, on the same database, knows it was.
    executed = cluster.call(
        "A", "POST", "/api/transfers/", json=TRANSFER, headers=bearer(token["access_token"])
    )
    assert executed.status_code == 201, executed.text
    again = cluster.call("B", "POST", "/api/transfers/", json=TRANSFER, headers=bearer(token["access_token"]))
    assert again.status_code == 403 and "already executed" in again.json()["detail"]
    assert all(introspect(cluster, node, token["access_token"])["active"] is True for node in NODES)


@pytest.mark.postgresql
def test_concurrent_replays_across_both_nodes_leave_one_winner_and_revoke_it(cluster):
    session = logged_in(cluster, "B")
    pushed = push(cluster, "B", state="s", authorization_details=DETAILS)
    assert pushed.status_code == 201, pushed.text
    code = consent(cluster, session, "A", pushed.json()["request_uri"])
    racers = 8
    together = threading.Barrier(racers)

    def replay(number: int) -> requests.Response:
        together.wait(timeout=TIMEOUT)
        return exchange(cluster, NODES[number % 2], code)

    with ThreadPoolExecutor(racers) as pool:
        answers = list(pool.map(replay, range(racers), timeout=TIMEOUT * 2))
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [200] + [400] * (racers - 1), [(a.status_code, a.text[:200]) for a in answers]
    for loser in (answer for answer in answers if answer.status_code == 400):
        assert loser.headers["Content-Type"] == "application/json"
        assert loser.json()["error"] == "invalid_grant", loser.text
    won = next(answer for answer in answers if answer.status_code == 200).json()
    # The replay revoked everything issued from the code, on both nodes (one database).
    for node in NODES:
        assert introspect(cluster, node, won["access_token"]) == {"active": False}
        assert introspect(cluster, node, won["refresh_token"]) == {"active": False}
        refused = cluster.call(node, "GET", "/api/transfers/", headers=bearer(won["access_token"]))
        assert refused.status_code == 401, refused.text


def rate_limited(response: requests.Response) -> bool:
    if response.status_code != 429:
        assert response.status_code == 201, response.text
        return False
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["error"] == "too_many_requests"
    assert 1 <= int(response.headers["Retry-After"]) <= 30 * 86400
    return True


@pytest.mark.postgresql
def test_a_client_assertion_is_used_once_across_both_nodes(cluster, tmp_path):
    """private_key_jwt (issue 12): the jti of a client assertion is remembered in Redis, so a replay
    is refused on the other node too, and of concurrent uses split across A and B exactly one wins."""
    import subprocess
    import sys

    from jwcrypto import jwk

    from .fapi_helpers import assertion
    from .live_servers import ROOT

    key_file = tmp_path / "demo-fapi-key.json"
    registered = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "rar_demo_fapi_client",
            "--key-file",
            str(key_file),
            "--redirect-uri",
            REDIRECT_URI,
        ],
        cwd=ROOT,
        env=cluster.env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert registered.returncode == 0, registered.stderr
    key = jwk.JWK(**json.loads(key_file.read_text())["keys"][0])

    def push_as_fapi(node: str, client_assertion: str) -> requests.Response:
        data = {
            "client_id": "demo-fapi",
            "response_type": "code",
            "redirect_uri": REDIRECT_URI,
            "code_challenge": pkce_pair()[1],
            "code_challenge_method": "S256",
            "authorization_details": DETAILS,
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": client_assertion,
        }
        return cluster.call(node, "POST", "/oauth/par", data=data)

    once = assertion(key, "demo-fapi", aud=two_nodes.ISSUER)
    assert push_as_fapi("A", once).status_code == 201
    replayed = push_as_fapi("B", once)
    assert replayed.status_code == 401 and "used already" in replayed.json()["error_description"]

    racers = 8
    shared = assertion(key, "demo-fapi", aud=two_nodes.ISSUER)
    together = threading.Barrier(racers)

    def race(number: int) -> int:
        # At introspection (not rate-limited like PAR): 200 for the one authenticated, else 401.
        data = {
            "token": "unknown",
            "client_id": "demo-fapi",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": shared,
        }
        together.wait(timeout=TIMEOUT)
        return cluster.call(NODES[number % 2], "POST", "/oauth/introspect", data=data).status_code

    with ThreadPoolExecutor(racers) as pool:
        statuses = sorted(pool.map(race, range(racers), timeout=TIMEOUT * 2))
    assert statuses == [200] + [401] * (racers - 1), statuses


@pytest.mark.postgresql
def test_rate_limits_count_across_both_nodes(cluster):
    """PAR_LIMIT pushed requests per client in all: the next is refused on either node."""
    flush_redis()
    try:
        _verifier, challenge = pkce_pair()
        public = {"client_id": "demo-public", "code_challenge": challenge, "code_challenge_method": "S256"}
        split = [rate_limited(push(cluster, NODES[n % 2], **public)) for n in range(PAR_LIMIT + 2)]
        # Each node served PAR_LIMIT / 2 of them, yet both refuse the next: they count together.
        assert split == [False] * PAR_LIMIT + [True, True]
        one_node = [rate_limited(push(cluster, "A")) for _ in range(PAR_LIMIT + 1)]
        assert one_node == [False] * PAR_LIMIT + [True]
    finally:
        flush_redis()


def keys_command(name: str, *args: str) -> str:
    """rar_generate_key / rar_signing_keys on the operator's file, with the nodes' lifetimes."""
    from django.conf import settings

    from .two_nodes import LEEWAY, TOKEN_LIFETIME

    out = StringIO()
    lifetimes = {"JWT_ACCESS_TOKEN_LIFETIME": TOKEN_LIFETIME, "JWT_LEEWAY": LEEWAY}
    with override_settings(RAR_PROVIDER={**settings.RAR_PROVIDER, **lifetimes}):
        call_command(name, *args, stdout=out)
    return out.getvalue()


def published(cluster, node: str) -> list[str]:
    return [key["kid"] for key in cluster.call(node, "GET", "/oauth/jwks").json()["keys"]]


def roll(cluster, traffic, step: str, expect_published: dict[str, list[str]] | None = None) -> None:
    """The operator's key file to A, then (once tokens have flowed both ways) to B: each node
    restarted onto it (both replacements boot together; the traffic moves one node at a time).
    ``expect_published``: what /oauth/jwks lists on a node that has the new file, and on one not yet."""
    fresh = [cluster.prepare(node) for node in NODES]
    for node in fresh:
        cluster.switch(node, f"{step} {node.name}")
        traffic.settle()
        if expect_published:
            rolled = NODES[: NODES.index(node.name) + 1]
            for other in NODES:
                wanted = expect_published["rolled" if other in rolled else "not yet"]
                assert published(cluster, other) == wanted, (step, node.name, other)


@pytest.mark.postgresql
def test_signing_key_rotation_node_by_node_never_rejects_a_valid_token(cluster):
    master = str(cluster.master)
    (old,) = [key["kid"] for key in json.loads(cluster.master.read_text())["keys"]]
    cluster.stage = "both nodes sign with the old key"
    traffic = Traffic(cluster)
    traffic.start()
    try:
        traffic.settle()
        # 1. The new key, published only, node by node; then caches of /oauth/jwks expire.
        keys_command("rar_generate_key", "--jwks-file", master, "--publish-only")
        new = json.loads(cluster.master.read_text())["keys"][1]["kid"]
        roll(cluster, traffic, "published on", {"rolled": [old, new], "not yet": [old]})
        traffic.wait_for_jwks_caches()
        # 2. Promoted, node by node: for a while A signs with the new key and B with the old one.
        keys_command("rar_signing_keys", "--jwks-file", master, "promote", f"--kid={new}")
        roll(cluster, traffic, "promoted on", {"rolled": [old, new], "not yet": [old, new]})
        # 3. Retired once every token the old key signed has expired, node by node.
        traffic.wait_until_expired(old)
        keys_command("rar_signing_keys", "--jwks-file", master, "retire", f"--kid={old}")
        roll(cluster, traffic, "retired on", {"rolled": [new], "not yet": [old, new]})
    finally:
        traffic.finish()
    assert traffic.failures == [], "\n".join(traffic.failures) + cluster.logs()
    assert traffic.kids_by_stage() == {
        "both nodes sign with the old key": {"A": {old}, "B": {old}},
        "published on A": {"A": {old}, "B": {old}},
        "published on B": {"A": {old}, "B": {old}},
        "promoted on A": {"A": {new}, "B": {old}},
        "promoted on B": {"A": {new}, "B": {new}},
        "retired on A": {"A": {new}, "B": {new}},
        "retired on B": {"A": {new}, "B": {new}},
    }
    # While A signs with the new key and B with the old one, each node accepted the other's tokens.
    assert {("promoted on A", new, "A", "B"), ("promoted on A", old, "B", "A")} <= traffic.accepted

    # The same check fails for a naive rotation: a key that signs at once, on A only, is unknown to B.
    keys_command("rar_generate_key", "--jwks-file", master)
    cluster.restart("A", "a naive rotation on A")
    token = traffic.issue("A").token
    assert jwt_parts(token)[0]["kid"] not in published(cluster, "B")
    assert cluster.call("A", "GET", "/api/transfers/", headers=bearer(token)).status_code == 200
    assert cluster.call("B", "GET", "/api/transfers/", headers=bearer(token)).status_code == 401


# -- without PostgreSQL or Redis: a skip that says why, or a failure when PostgreSQL is required ----------


@pytest.fixture
def no_postgres(monkeypatch):
    port = free_port()
    monkeypatch.setattr(
        two_nodes,
        "postgres_server",
        lambda: {"host": "127.0.0.1", "port": str(port), "user": "", "password": ""},
    )
    return port


def test_no_postgres_skips_saying_so(no_postgres, monkeypatch, tmp_path):
    monkeypatch.delenv("REQUIRE_POSTGRES", raising=False)
    with pytest.raises(
        pytest.skip.Exception,
        match=f"need PostgreSQL and Redis: no PostgreSQL server at 127.0.0.1:{no_postgres}",
    ):
        start_cluster(tmp_path)


def test_no_redis_fails_when_postgres_is_required(monkeypatch, tmp_path):
    import contextlib

    monkeypatch.setattr(two_nodes, "_admin_connection", lambda server: contextlib.nullcontext())
    monkeypatch.setattr(two_nodes, "REDIS_URL", f"redis://127.0.0.1:{free_port()}/7")
    monkeypatch.setenv("REQUIRE_POSTGRES", "1")
    with pytest.raises(
        pytest.fail.Exception, match="no Redis server at redis://127.0.0.1:.*REQUIRE_POSTGRES is set"
    ):
        start_cluster(tmp_path)
