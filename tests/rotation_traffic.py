"""Tokens from both nodes, used continuously while a signing-key rotation is rolled out
(tests/test_two_nodes.py).

Each round, a thread gets a token from each node (client credentials, a JWT for the Payments API)
and presents the newest and the oldest still-valid token of each node to both nodes' Payments API
(the guard verifies with that node's own keys), to introspection, and to a resource server
elsewhere that verifies with a copy of /oauth/jwks kept as long as its ``Cache-Control`` allows.
A token counts as valid while more than :data:`MARGIN` seconds are left before its ``exp``; any
refusal of a valid token, any error answer, is a failure.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import time
from dataclasses import dataclass

from jwcrypto import jwk

from rar_provider import access_tokens

from .two_nodes import API, ISSUER, JWKS_MAX_AGE, LEEWAY, NODES

#: Seconds a token must still have before ``exp`` to count as valid when it is presented.
MARGIN = 2.0
SERVICE = ("demo-service", "demo-service-secret")
READ_TRANSACTIONS = json.dumps([{"type": "account_information", "actions": ["read_transactions"]}])


def jwt_parts(token: str) -> tuple[dict, dict]:
    """The (header, claims) of a compact JWS, unverified."""
    header, claims = (
        json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))) for part in token.split(".")[:2]
    )
    return header, claims


@dataclass
class Issued:
    stage: str
    node: str
    token: str
    kid: str
    exp: int

    def valid(self) -> bool:
        return self.exp - time.time() > MARGIN


class Traffic(threading.Thread):
    """The continuous user. Each token is labelled with the cluster's stage when it was asked for."""

    def __init__(self, cluster):
        super().__init__(daemon=True)
        self.cluster = cluster
        self.issued: list[Issued] = []
        self.failures: list[str] = []
        #: (stage, kid, issuing node, verifying node) of every token a node's API accepted.
        self.accepted: set[tuple[str, str, str, str]] = set()
        self.rounds = 0
        self.round_done = threading.Condition()
        self.stopping = threading.Event()
        self.remote_keys: jwk.JWKSet | None = None
        self.remote_keys_until = 0.0
        self.fetches = 0

    def run(self) -> None:
        try:
            while not self.stopping.is_set():
                self.round()
                with self.round_done:
                    self.rounds += 1
                    self.round_done.notify_all()
        except Exception as exc:  # reported by the test (failures)
            self.failures.append(f"the traffic stopped: {exc!r}")
        finally:
            with self.round_done:
                self.round_done.notify_all()

    def issue(self, node: str) -> Issued:
        response = self.cluster.call(
            node,
            "POST",
            "/oauth/token",
            data={"grant_type": "client_credentials", "authorization_details": READ_TRANSACTIONS},
            auth=SERVICE,
        )
        assert response.status_code == 200, (
            f"node {node} issued no token: {response.status_code} {response.text}"
        )
        token = response.json()["access_token"]
        header, claims = jwt_parts(token)
        return Issued(response.stage, node, token, header["kid"], claims["exp"])

    def round(self) -> None:
        for node in NODES:
            self.issued.append(self.issue(node))
        for item in self.sample():
            for verifier in NODES:
                self.present(item, verifier)
            self.introspect(item, NODES[self.rounds % 2])
            self.verify_remotely(item)

    def sample(self) -> list[Issued]:
        """The oldest and the newest valid token of each node."""
        picked: list[Issued] = []
        for node in NODES:
            mine = [item for item in self.issued if item.node == node and item.valid()]
            picked += [item for item in (mine[:1] + mine[-1:]) if item not in picked]
        return picked

    def fail(self, item: Issued, what: str) -> None:
        left = item.exp - time.time()
        self.failures.append(
            f"[{self.cluster.stage}] {what}: a token from {item.node} at {item.stage} (kid {item.kid}, "
            f"{left:.1f} s left)"
        )

    def present(self, item: Issued, verifier: str) -> None:
        if not item.valid():
            return
        response = self.cluster.call(
            verifier, "GET", "/api/transfers/", headers={"Authorization": f"Bearer {item.token}"}
        )
        if response.status_code == 200:
            self.accepted.add((item.stage, item.kid, item.node, verifier))
        else:
            challenge = response.headers.get("WWW-Authenticate", "")
            self.fail(item, f"{verifier}'s Payments API answered {response.status_code} {challenge}")

    def introspect(self, item: Issued, node: str) -> None:
        if not item.valid():
            return
        response = self.cluster.call(
            node,
            "POST",
            "/oauth/introspect",
            data={"token": item.token},
            auth=("payments-api", "payments-api-secret"),
        )
        if response.status_code != 200 or response.json().get("active") is not True:
            self.fail(item, f"introspection at {node} answered {response.status_code} {response.text[:200]}")

    def verify_remotely(self, item: Issued) -> None:
        """A resource server elsewhere: /oauth/jwks from either node, kept for its max-age."""
        if self.remote_keys is None or time.monotonic() >= self.remote_keys_until:
            node = NODES[self.fetches % 2]
            self.fetches += 1
            response = self.cluster.call(node, "GET", "/oauth/jwks")
            max_age = int(re.search(r"max-age=(\d+)", response.headers["Cache-Control"]).group(1))
            assert max_age == JWKS_MAX_AGE, response.headers["Cache-Control"]
            self.remote_keys = jwk.JWKSet.from_json(response.text)
            self.remote_keys_until = time.monotonic() + max_age
        if not item.valid():
            return
        try:
            access_tokens.verify(item.token, self.remote_keys, issuer=ISSUER, audience=API, leeway=LEEWAY)
        except access_tokens.InvalidAccessToken as exc:
            self.fail(item, f"a resource server with a cached /oauth/jwks refused it ({exc})")

    # -- for the test's thread ----------------------------------------------------------------------

    def settle(self, rounds: int = 2, timeout: float = 60) -> None:
        """Let ``rounds`` whole rounds run (at the cluster's stage now)."""
        with self.round_done:
            target = self.rounds + rounds
            ended = self.round_done.wait_for(lambda: self.rounds >= target or not self.is_alive(), timeout)
        assert ended and self.is_alive(), "\n".join(self.failures) or f"no traffic round within {timeout} s"

    def wait_for_jwks_caches(self) -> None:
        """Every copy of /oauth/jwks fetched before the last node published the key has expired."""
        time.sleep(JWKS_MAX_AGE + 0.5)

    def wait_until_expired(self, kid: str) -> None:
        """Until every token signed with ``kid`` is past its ``exp`` and the verifiers' leeway."""
        latest = max(item.exp for item in self.issued if item.kid == kid)
        time.sleep(max(0.0, latest + LEEWAY + 0.5 - time.time()))

    def finish(self) -> None:
        self.stopping.set()
        self.join(timeout=60)

    def kids_by_stage(self) -> dict[str, dict[str, set[str]]]:
        """For each stage, the kids each node signed its tokens with."""
        found: dict[str, dict[str, set[str]]] = {}
        for item in self.issued:
            found.setdefault(item.stage, {}).setdefault(item.node, set()).add(item.kid)
        return found
