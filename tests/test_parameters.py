"""The parameter table (rar_provider/parameters/, rendered in docs/protocol.md) is the spec: every row
is walked through the real endpoint — the parameter missing (if required), repeated, malformed and not
matching — and must give the error the table names (issue 9, kind 1).
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse

import pytest

from rar_provider import parameters
from rar_provider.models import PushedAuthorizationRequest

from .conftest import (
    AUTHORIZE_URL,
    CONFIDENTIAL,
    FORM,
    MONEY_TRANSFER,
    PAR_URL,
    REDIRECT_URI,
    TOKEN_URL,
    pkce_pair,
    pushed_request_uri,
)
from .fapi_helpers import assertion_pairs, new_key, register_keys
from .strict_helpers import INTROSPECT_URL, REVOKE_URL, SERVICE, code_for, tokens_for

pytestmark = pytest.mark.django_db

DOC = Path(__file__).resolve().parent.parent / "docs" / "protocol.md"
SECRETS = {"demo-client": "demo-secret", "demo-service": "demo-service-secret"}
#: Rows walked with the baseline's client switched to private_key_jwt (RFC 7523): no Basic then.
ASSERTION_ROWS = ("client_assertion", "client_assertion_type")


def with_assertion(pairs: list[tuple[str, str]], client_id: str) -> list[tuple[str, str]]:
    """The baseline's client now registered for private_key_jwt; ``pairs`` authenticated with an
    assertion (and ``client_id``) instead of HTTP Basic."""
    from oauth2_provider.models import get_application_model

    key = new_key()
    register_keys(get_application_model().objects.get(client_id=client_id), key)
    kept = [(k, v) for k, v in pairs if k != "client_id"]
    return [("client_id", client_id), *kept, *assertion_pairs(key, client_id)]


def baseline(key: str, client, row: str) -> tuple[str, str, list[tuple[str, str]], str]:
    """``(method, url, pairs, client_id)`` of a good request for ``key``, authenticated with Basic."""
    if key in ("par", "authorize"):
        if key == "authorize" and row == "request_uri":
            return (
                "GET",
                AUTHORIZE_URL,
                [("client_id", "demo-client"), ("request_uri", pushed_request_uri(client))],
                "",
            )
        _, challenge = pkce_pair()
        pairs = [
            ("client_id", "demo-client"),
            ("response_type", "code"),
            ("redirect_uri", REDIRECT_URI),
            ("state", "st-1"),
            ("code_challenge", challenge),
            ("code_challenge_method", "S256"),
            ("authorization_details", json.dumps([MONEY_TRANSFER])),
        ]
        return ("POST", PAR_URL, pairs, "demo-client") if key == "par" else ("GET", AUTHORIZE_URL, pairs, "")
    if key == "token:authorization_code":
        code, verifier = code_for(client)
        pairs = [
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT_URI),
            ("code_verifier", verifier),
        ]
        return "POST", TOKEN_URL, pairs, "demo-client"
    if key == "token:refresh_token":
        issued = tokens_for(client)
        return (
            "POST",
            TOKEN_URL,
            [("grant_type", "refresh_token"), ("refresh_token", issued["refresh_token"])],
            ("demo-client"),
        )
    if key == "token:client_credentials":
        return "POST", TOKEN_URL, [("grant_type", "client_credentials")], "demo-service"
    if key == "introspect":
        return "POST", INTROSPECT_URL, [("token", "unknown-token")], "demo-service"
    return "POST", REVOKE_URL, [("token", "unknown-token")], "demo-client"


def send(client, method: str, url: str, pairs: list[tuple[str, str]], client_id: str, body_auth: bool):
    if method == "GET":
        return client.get(f"{url}?{urlencode(pairs)}")
    auth = {}
    if client_id and body_auth:
        pairs = [
            ("client_id", client_id),
            ("client_secret", SECRETS[client_id]),
            *[(k, v) for k, v in pairs if k not in ("client_id",)],
        ]
    elif client_id:
        auth = SERVICE if client_id == "demo-service" else CONFIDENTIAL
    return client.post(url, urlencode(pairs), content_type=FORM, **auth)


def outcome(response) -> tuple[int, str | None, str]:
    """``(status, error, description)`` of a JSON error, an error redirect or an error page."""
    if response.status_code == 302:
        query = {k: v[0] for k, v in parse_qs(urlparse(response["Location"]).query).items()}
        return 302, query.get("error"), query.get("error_description", "")
    if response.get("Content-Type", "").startswith("text/html"):
        context = response.context or {}
        return response.status_code, context.get("error"), context.get("error_description", "")
    body = response.json()
    assert response["Cache-Control"] == "no-store"
    return response.status_code, body.get("error"), body.get("error_description", "")


def cases():
    for key, endpoint in parameters.ENDPOINTS.items():
        for row in endpoint.parameters:
            if row.required == parameters.REQUIRED:
                yield pytest.param(key, row.name, "missing", id=f"{key}-{row.name}-missing")
            if not row.repeatable and row.required != parameters.NEVER:
                yield pytest.param(key, row.name, "repeated", id=f"{key}-{row.name}-repeated")
            if row.bad is not None:
                yield pytest.param(key, row.name, "malformed", id=f"{key}-{row.name}-malformed")
            if row.mismatch is not None:
                yield pytest.param(key, row.name, "mismatch", id=f"{key}-{row.name}-mismatch")


@pytest.mark.parametrize("key, name, violation", list(cases()))
def test_every_row_of_the_parameter_table(alice_client, key, name, violation):
    row = parameters.ENDPOINTS[key][name]
    method, url, pairs, client_id = baseline(key, alice_client, name)
    body_auth = name == "client_secret"
    by_assertion = name in ASSERTION_ROWS
    if by_assertion:
        pairs = with_assertion(pairs, client_id)
    if name == "client_id" and method == "POST":
        pairs = [("client_id", client_id), *[(k, v) for k, v in pairs if k != "client_id"]]
    current = dict(pairs).get(name) or row.example
    if body_auth:
        current = SECRETS[client_id]
    others = [(k, v) for k, v in pairs if k != name]
    if violation == "missing":
        changed, expected = others, "invalid_request"
    elif violation == "repeated":
        assert current is not None, f"the table needs an example for {key} {name}"
        changed = (
            [*pairs, (name, current)] if name in dict(pairs) else [*pairs, (name, current), (name, current)]
        )
        expected = "invalid_request"
    elif violation == "malformed":
        changed, expected = [*others, (name, row.bad)], row.error
    else:
        changed, expected = [*others, (name, row.mismatch)], row.mismatch_error
    if body_auth:
        # The secret under test travels in the body (client_secret_post), with the baseline's client_id.
        changed = [("client_id", client_id), *[(k, v) for k, v in changed if k != "client_id"]]
        response = alice_client.post(url, urlencode(changed), content_type=FORM)
    else:
        response = send(
            alice_client, method, url, changed, "" if by_assertion else client_id, body_auth=False
        )
    status, error, description = outcome(response)
    assert error == expected, (violation, status, error, description)
    if method == "POST":
        assert status == (401 if expected == "invalid_client" else 400), (status, description)
    else:
        assert status in (302, 400), status
    if violation != "mismatch" and name != "request_uri":
        assert name in description, description
    if key == "par":
        assert not PushedAuthorizationRequest.objects.exists()


@pytest.mark.parametrize("key", list(parameters.ENDPOINTS))
def test_the_baseline_of_every_table_is_accepted(alice_client, key):
    """Each violation above changes one thing in a request that is otherwise good."""
    method, url, pairs, client_id = baseline(key, alice_client, "")
    response = send(alice_client, method, url, pairs, client_id, body_auth=False)
    assert response.status_code in (200, 201), (response.status_code, response.content[:300])
    if key.startswith("token") or key in ("introspect", "revoke"):
        response = send(alice_client, *baseline(key, alice_client, ""), body_auth=True)
        assert response.status_code == 200, response.content
    if method == "POST":
        # The same request from the same client, registered for private_key_jwt (RFC 7523).
        method, url, pairs, client_id = baseline(key, alice_client, "")
        response = send(alice_client, method, url, with_assertion(pairs, client_id), "", body_auth=False)
        assert response.status_code in (200, 201), (response.status_code, response.content[:300])


def test_docs_protocol_md_is_the_table():
    """docs/protocol.md shows exactly this table; regenerate it with ``python -m rar_provider.parameters``."""
    assert parameters.document_section(DOC.read_text()) == parameters.render_markdown()


def test_every_row_says_how_it_fails():
    for endpoint in parameters.ENDPOINTS.values():
        for row in endpoint.parameters:
            assert row.syntax, row
            assert row.bad is not None or row.pattern is None, row  # a syntax rule is walked by the test
            assert bool(row.matches) == bool(row.mismatch_error) == (row.mismatch is not None), row
