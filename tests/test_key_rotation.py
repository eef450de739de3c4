"""A signing-key rotation rolled out one node at a time never rejects a valid token (issue 11, point 4).

Two nodes are simulated in this process: each has its own copy of the JWK Set file (as each machine
has), and "node X answers" means the request runs with ``RAR_PROVIDER["SIGNING_KEYS"]`` naming X's
copy. The operator runs the commands of docs/deploy.md (*Rotating the signing key*) on one file and
copies it to one node at a time; after every copy, every token issued so far by either node is
presented to both nodes' Payments API (whose guard verifies with that node's own keys) and to
introspection. A naive rotation (the new key signing at once) is shown to fail the same check.
tests/test_two_nodes.py does the same with two real servers on PostgreSQL, up to the retirement.
"""

from __future__ import annotations

import json
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from .conftest import basic, post_form
from .test_keys import READ_TRANSACTIONS, configured, issued_token, kid_of, published

pytestmark = pytest.mark.django_db
NODES = ("A", "B")


def command(name: str, *args: str) -> str:
    out = StringIO()
    call_command(name, *args, stdout=out)
    return out.getvalue()


class Cluster:
    """Two nodes, each with its own copy of the operator's key file."""

    def __init__(self, client, folder: Path):
        self.client = client
        self.master = folder / "signing-keys.json"
        self.copies = {node: folder / f"node-{node}" / "signing-keys.json" for node in NODES}
        self.issued: list[tuple[str, str]] = []  # (issuing node, token), oldest first
        command("rar_generate_key", "--jwks-file", str(self.master))
        for node in NODES:
            self.deploy(node)

    def kids(self) -> list[str]:
        return [entry["kid"] for entry in json.loads(self.master.read_text())["keys"]]

    def deploy(self, node: str) -> None:
        """The new file reaches one node (a restart, or the file replaced: it is read again)."""
        self.copies[node].parent.mkdir(exist_ok=True)
        shutil.copyfile(self.master, self.copies[node])

    def on(self, node: str):
        return configured(str(self.copies[node]))

    def issue(self) -> dict[str, str]:
        """A token from each node; the kid each signed with."""
        signed_with = {}
        for node in NODES:
            with self.on(node):
                token = issued_token(self.client)
            self.issued.append((node, token))
            signed_with[node] = kid_of(token)
        return signed_with

    def rejections(self) -> list[tuple[str, str, int]]:
        """(issuing node, verifying node, status) for every issued token a node's API refused."""
        refused = []
        for issuer, token in self.issued:
            for verifier in NODES:
                with self.on(verifier):
                    bearer = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
                    status = self.client.get("/api/transfers/", **bearer).status_code
                    introspected = post_form(
                        self.client,
                        "/oauth/introspect",
                        {"token": token},
                        **basic("payments-api", "payments-api-secret"),
                    ).json()
                assert introspected["active"] is True, introspected
                assert introspected["authorization_details"] == [READ_TRANSACTIONS]
                if status != 200:
                    refused.append((issuer, verifier, status))
        return refused

    def published_by(self, node: str) -> list[str]:
        with self.on(node):
            return [key["kid"] for key in published(self.client)]


@pytest.fixture
def cluster(client, tmp_path):
    return Cluster(client, tmp_path)


def test_publish_then_promote_node_by_node_never_rejects_a_valid_token(cluster):
    (old,) = cluster.kids()
    assert cluster.issue() == {"A": old, "B": old}

    # 1. The new key, published only, to every node in turn: it is in their JWKS, it signs nothing.
    command("rar_generate_key", "--jwks-file", str(cluster.master), "--publish-only")
    new = cluster.kids()[1]
    for node in NODES:
        cluster.deploy(node)
        assert cluster.published_by(node) == [old, new]
        assert cluster.issue() == {"A": old, "B": old}
        assert cluster.rejections() == []

    # 2. Promoted, node by node: A signs with the new key while B still signs with the old one.
    command("rar_signing_keys", "--jwks-file", str(cluster.master), "promote", f"--kid={new}")
    cluster.deploy("A")
    assert cluster.issue() == {"A": new, "B": old}
    assert cluster.rejections() == []
    cluster.deploy("B")
    assert cluster.issue() == {"A": new, "B": new}
    assert cluster.rejections() == []
    assert all(cluster.published_by(node) == [old, new] for node in NODES)

    # 3. Not yet: tokens the old key signed are still valid, and the command says so.
    with pytest.raises(CommandError, match="retiring it now rejects them"):
        command("rar_signing_keys", "--jwks-file", str(cluster.master), "retire", f"--kid={old}")
    # Forced, it would reject them on the node that got the file: what the refusal protects.
    command("rar_signing_keys", "--jwks-file", str(cluster.master), "retire", f"--kid={old}", "--force")
    cluster.deploy("A")
    assert cluster.published_by("A") == [new]
    refused = cluster.rejections()
    assert refused and {verifier for _, verifier, _ in refused} == {"A"}
    assert {status for *_, status in refused} == {401}


def test_a_naive_rotation_rejects_valid_tokens_on_the_node_without_the_key(cluster):
    """The check above can fail: a new key that signs at once, on node A only, is unknown to B."""
    (old,) = cluster.kids()
    command("rar_generate_key", "--jwks-file", str(cluster.master))  # signs at once
    new = cluster.kids()[1]
    cluster.deploy("A")
    assert cluster.issue() == {"A": new, "B": old}
    assert cluster.rejections() == [("A", "B", 401)]


def test_a_rotation_called_off_before_the_promotion(cluster):
    """A published-only key that never signed can be retired at once: nothing it signed exists."""
    (old,) = cluster.kids()
    command("rar_generate_key", "--jwks-file", str(cluster.master), "--publish-only")
    new = cluster.kids()[1]
    for node in NODES:
        cluster.deploy(node)
    cluster.issue()
    command("rar_signing_keys", "--jwks-file", str(cluster.master), "retire", f"--kid={new}")
    for node in NODES:
        cluster.deploy(node)
        assert cluster.published_by(node) == [old]
    assert cluster.issue() == {"A": old, "B": old}
    assert cluster.rejections() == []
