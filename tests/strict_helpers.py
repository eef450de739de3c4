"""Helpers shared by the strict-request tests (issue 9): flows and the RFC 6749 §5.2 error shape."""

from __future__ import annotations

from .conftest import (
    CONFIDENTIAL,
    MONEY_TRANSFER,
    REDIRECT_URI,
    TOKEN_URL,
    approve,
    basic,
    pkce_pair,
    post_form,
    push,
    redirect_params,
)

SERVICE = basic("demo-service", "demo-service-secret")
INTROSPECT_URL = "/oauth/introspect"
REVOKE_URL = "/oauth/revoke"


def assert_oauth_json_error(response, status: int, error: str | None = None, *, mentions: str | None = None):
    """RFC 6749 §5.2: the status, a JSON object with ``error`` and a description, never cached;
    a 401 names a scheme in ``WWW-Authenticate``. Returns the body."""
    assert response.status_code == status, (response.status_code, response.content[:300])
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    assert response["Cache-Control"] == "no-store"
    if response.status_code == 401:
        assert response["WWW-Authenticate"].split(" ", 1)[0] in ("Basic", "Bearer")
    body = response.json()
    assert isinstance(body.get("error"), str) and body.get("error_description"), body
    if error is not None:
        assert body["error"] == error, body
    if mentions is not None:
        assert mentions in body["error_description"], body
    return body


def code_for(
    client, *, public: bool = False, pkce: bool = True, details=None, **overrides
) -> tuple[str, str]:
    """Push and approve as the logged-in user; return ``(code, code_verifier or "")``."""
    verifier, challenge = pkce_pair() if pkce else ("", None)
    extra = {"code_challenge": challenge, "code_challenge_method": "S256"} if pkce else {}
    if public:
        extra["client_id"] = "demo-public"
    response = push(
        client,
        [MONEY_TRANSFER] if details is None else details,
        auth={} if public else CONFIDENTIAL,
        **extra,
        **overrides,
    )
    assert response.status_code == 201, response.content
    request_uri = response.json()["request_uri"]
    code = redirect_params(approve(client, request_uri, client_id="demo-public" if public else "demo-client"))
    return code["code"], verifier


def token_request(client, data: dict, *, public: bool = False, **extra):
    auth = {} if public else CONFIDENTIAL
    if public:
        data = {"client_id": "demo-public", **data}
    return post_form(client, TOKEN_URL, data, **auth, **extra)


def tokens_for(client, *, public: bool = False) -> dict:
    """A token response for a fresh code (PKCE), as the logged-in user."""
    code, verifier = code_for(client, public=public)
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
    response = token_request(client, {**data, "code_verifier": verifier}, public=public)
    assert response.status_code == 200, response.content
    return response.json()


def refresh(client, refresh_token: str, *, public: bool = False):
    return token_request(
        client, {"grant_type": "refresh_token", "refresh_token": refresh_token}, public=public
    )


def introspect(client, token: str):
    return post_form(client, INTROSPECT_URL, {"token": token}, **SERVICE)
