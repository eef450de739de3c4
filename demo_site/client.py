"""The demo's built-in OAuth client: it holds demo-client's secret server side and
talks to the authorization server over HTTP, exactly as a real client would."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

from django.conf import settings

SAMPLE_TRANSFER = [
    {
        "type": "money_transfer",
        "instructedAmount": {"amount": 2500, "currency": "USD"},
        "sourceAccount": "xxxxxxxxxxx1234",
        "destinationAccount": "xxxxxxxxxxx9876",
        "beneficiary": "Hanna Herwitz",
        "subject": "A Lannister Always Pays His Debts",
    }
]


@dataclass
class Reply:
    status: int
    body: dict
    headers: dict[str, str] = field(default_factory=dict)


def pkce_pair() -> tuple[str, str]:
    """RFC 7636 §4.1-4.2: a verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def send(url: str, body: bytes, headers: dict[str, str]) -> Reply:
    """POST ``body`` to ``url`` (loopback): the status, the JSON body and the headers (lower-cased names).

    A body that is not JSON comes back as ``{"error": "unexpected_response", ...}``.
    """
    request = urllib.request.Request(
        url, data=body, headers={"Accept": "application/json", **headers}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # loopback only
            return Reply(response.status, json.loads(response.read() or b"{}"), _lower(response.headers))
    except urllib.error.HTTPError as error:
        try:
            reply = json.loads(error.read() or b"{}")
        except ValueError:
            reply = {"error": "unexpected_response", "error_description": f"HTTP {error.code}"}
        return Reply(error.code, reply, _lower(error.headers))


def _post(path: str, data: dict[str, str]) -> Reply:
    credentials = f"{settings.DEMO_CLIENT_ID}:{settings.DEMO_CLIENT_SECRET}".encode()
    return send(
        settings.DEMO_AS_URL.rstrip("/") + path,
        urllib.parse.urlencode(data).encode(),
        {
            "Content-Type": "application/x-www-form-urlencoded",
            "Authorization": "Basic " + base64.b64encode(credentials).decode(),
        },
    )


def push_authorization_request(authorization_details: list[dict], state: str, code_challenge: str) -> Reply:
    """RFC 9126 §2.1: push the whole request on the back channel."""
    return _post(
        "/oauth/par",
        {
            "client_id": settings.DEMO_CLIENT_ID,
            "response_type": "code",
            "redirect_uri": settings.DEMO_REDIRECT_URI,
            "state": state,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
            "authorization_details": json.dumps(authorization_details),
        },
    )


def exchange_code(code: str, code_verifier: str | None) -> Reply:
    """RFC 6749 §4.1.3: trade the code for tokens."""
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": settings.DEMO_REDIRECT_URI}
    if code_verifier:
        data["code_verifier"] = code_verifier
    return _post("/oauth/token", data)


def redirect_result(params, expected_state: str | None) -> dict:
    """What the redirect back brought (``code`` or ``error``), checked as a client checks it: its
    ``state`` against the one this flow sent, its ``iss`` against the issuer (RFC 9207)."""
    return {
        "code": params.get("code"),
        "state": params.get("state"),
        "iss": params.get("iss"),
        "error": params.get("error"),
        "error_description": params.get("error_description"),
        "expected_issuer": settings.ISSUER,
        "state_matches": bool(expected_state) and params.get("state") == expected_state,
        "iss_matches": params.get("iss") == settings.ISSUER,
        "started_here": bool(expected_state),
    }


def authorize_url(request_uri: str) -> str:
    query = urllib.parse.urlencode({"client_id": settings.DEMO_CLIENT_ID, "request_uri": request_uri})
    return f"/oauth/authorize?{query}"


def _lower(headers) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def call_transfers_api(access_token: str, transfer: dict) -> Reply:
    """RFC 6750 §2.1: ``POST /api/transfers/`` with the token in the Authorization header (never a URL)."""
    return send(
        settings.DEMO_AS_URL.rstrip("/") + "/api/transfers/",
        json.dumps(transfer).encode(),
        {"Content-Type": "application/json", "Authorization": f"Bearer {access_token}"},
    )


def transfer_request(detail: dict, amount_change: int = 0) -> dict:
    """The API's request body for an approved money_transfer detail (optionally another amount)."""
    amount = detail["instructedAmount"]["amount"] + amount_change
    body = {
        "instructedAmount": {"amount": amount, "currency": detail["instructedAmount"]["currency"]},
        "sourceAccount": detail["sourceAccount"],
        "destinationAccount": detail["destinationAccount"],
        "beneficiary": detail["beneficiary"],
    }
    if "subject" in detail:
        body["subject"] = detail["subject"]
    return body


def decode_jwt(token: str) -> dict | None:
    """The header and claims of a signed JWT, *unverified*: for display by the client that holds it.

    None for an encrypted (JWE) or opaque token, which a client cannot read.
    """
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        header, claims = (
            json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))) for part in parts[:2]
        )
    except ValueError:
        return None
    return {"header": header, "claims": claims}
