"""The demo's FAPI 2.0 client, ``demo-fapi``: server-side code that talks to the authorization server
and the Payments API over HTTP, as a real FAPI client would (demo_site/client.py does the same for
``demo-client``).

It never has a shared secret. Every request to the authorization server carries

* a **client assertion** (``private_key_jwt``, RFC 7523 §2.2 and §3): a short JWT with
  ``iss = sub = client_id``, ``aud`` = the issuer, a random ``jti``, signed with the private key that
  ``manage.py rar_demo_fapi_client`` wrote to ``settings.DEMO_FAPI_KEY_FILE``;
* a **DPoP proof** (RFC 9449 §4): a JWT signed with an ES256 key made for this flow (the "DPoP key",
  a private JWK kept in the session), naming the method and URL; the tokens are bound to that key.

When a server asks for a nonce (``use_dpop_nonce``, RFC 9449 §8 and §9) the client signs a new proof
with it and tries once more; it keeps the last nonce each server sent and puts it in its next proof.

``flow`` arguments are the session's dict for one flow: ``dpop_key`` (a private JWK, a dict) and the
nonces (``as_nonce``, ``api_nonce``), which these functions update.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from jwcrypto import jwk, jws

from . import client

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#: The DPoP key's algorithm (RFC 9449 §4.2; FAPI 2.0 allows PS256, ES256 and EdDSA).
DPOP_ALG = "ES256"
#: Seconds a client assertion lives (FAPI 2.0 asks for short-lived assertions).
ASSERTION_LIFETIME = 60


class NotReady(Exception):
    """The FAPI client is not set up (no usable key file); the message says what is missing."""


@dataclass
class Reply(client.Reply):
    """An HTTP answer; ``nonce_retried`` when the server first asked for a DPoP nonce."""

    nonce_retried: bool = False


def client_id() -> str:
    return settings.DEMO_FAPI_CLIENT_ID


def key_file() -> Path:
    return Path(settings.DEMO_FAPI_KEY_FILE)


def client_key() -> jwk.JWK:
    """The client's private key from the key file (a JWK Set of one private key with kid and alg).

    Raises :class:`NotReady` when the file is missing or is not such a set.
    """
    path = key_file()
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise NotReady(f"the client's private key file {path} does not exist") from None
    except (OSError, ValueError) as exc:
        raise NotReady(f"the client's private key file {path} cannot be read: {exc}") from None
    entries = data.get("keys") if isinstance(data, dict) else None
    if not entries or not isinstance(entries[0], dict):
        raise NotReady(f"{path} holds no key")
    entry = entries[0]
    if "d" not in entry or not entry.get("kid") or not entry.get("alg"):
        raise NotReady(f"{path}'s key is not a private key with kid and alg")
    return jwk.JWK(**entry)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _sign(key: jwk.JWK, header: dict, claims: dict) -> str:
    """A compact JWS of ``claims`` with exactly ``header`` (its ``alg`` signs)."""
    token = jws.JWS(json.dumps(claims).encode())
    token.add_signature(key, alg=header["alg"], protected=json.dumps(header))
    return token.serialize(compact=True)


def client_assertion(key: jwk.JWK) -> str:
    """RFC 7523 §3: ``iss = sub = client_id``, ``aud`` = the issuer, short ``exp``, a new ``jti``."""
    now = int(time.time())
    claims = {
        "iss": client_id(),
        "sub": client_id(),
        "aud": settings.ISSUER,
        "iat": now,
        "exp": now + ASSERTION_LIFETIME,
        "jti": secrets.token_urlsafe(24),
    }
    return _sign(key, {"alg": key.get("alg"), "kid": key.get("kid")}, claims)


def new_dpop_key() -> dict:
    """A new DPoP key pair (EC P-256), as a private JWK dict (kept in the session for one flow)."""
    return jwk.JWK.generate(kty="EC", crv="P-256").export_private(as_dict=True)


def dpop_jkt(private: dict) -> str:
    """The key's RFC 7638 SHA-256 thumbprint: what ``cnf.jkt`` of a bound token must be."""
    return jwk.JWK(**private).thumbprint()


def access_token_hash(access_token: str) -> str:
    """RFC 9449 §4.2 ``ath``: base64url SHA-256 of the access token."""
    return _b64url(hashlib.sha256(access_token.encode("ascii")).digest())


def dpop_proof(
    private: dict, htm: str, htu: str, *, nonce: str | None = None, access_token: str | None = None
) -> str:
    """RFC 9449 §4.2: header ``typ: dpop+jwt``, ``alg``, the public ``jwk``; claims ``jti``, ``htm``,
    ``htu``, ``iat`` (and ``nonce``, ``ath`` when given)."""
    key = jwk.JWK(**private)
    header = {"typ": "dpop+jwt", "alg": DPOP_ALG, "jwk": key.export_public(as_dict=True)}
    claims = {"jti": secrets.token_urlsafe(16), "htm": htm, "htu": htu, "iat": int(time.time())}
    if nonce:
        claims["nonce"] = nonce
    if access_token is not None:
        claims["ath"] = access_token_hash(access_token)
    return _sign(key, header, claims)


def _send(url: str, body: bytes, headers: dict[str, str]) -> Reply:
    plain = client.send(url, body, headers)
    return Reply(plain.status, plain.body, plain.headers)


def _authorization_server(flow: dict, path: str, data: dict[str, str]) -> Reply:
    """POST ``data`` to the authorization server's ``path`` with a client assertion and a DPoP proof.

    The proof's ``htu`` is the issuer's URL of the endpoint (what the metadata advertises); the
    request goes to ``DEMO_AS_URL`` (the same place in ``make demo``). Retries once for a nonce.
    """
    key = client_key()
    htu = settings.ISSUER + path
    retried = False
    while True:
        form = {
            **data,
            "client_id": client_id(),
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": client_assertion(key),  # a new jti each time: assertions are single-use
        }
        proof = dpop_proof(flow["dpop_key"], "POST", htu, nonce=flow.get("as_nonce"))
        reply = _send(
            settings.DEMO_AS_URL.rstrip("/") + path,
            urllib.parse.urlencode(form).encode(),
            {"Content-Type": "application/x-www-form-urlencoded", "DPoP": proof},
        )
        if reply.headers.get("dpop-nonce"):
            flow["as_nonce"] = reply.headers["dpop-nonce"]
        asked = reply.status in (400, 401) and reply.body.get("error") == "use_dpop_nonce"
        if not (asked and reply.headers.get("dpop-nonce")) or retried:
            reply.nonce_retried = retried
            return reply
        retried = True


def push_authorization_request(flow: dict, authorization_details: list[dict], state: str, challenge: str):
    """RFC 9126 §2.1 with PKCE S256 (RFC 7636) and RAR; the proof binds the request to the DPoP key
    (RFC 9449 §10)."""
    return _authorization_server(
        flow,
        "/oauth/par",
        {
            "response_type": "code",
            "redirect_uri": settings.DEMO_REDIRECT_URI,
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "authorization_details": json.dumps(authorization_details),
        },
    )


def exchange_code(flow: dict, code: str, code_verifier: str) -> Reply:
    """RFC 6749 §4.1.3 with private_key_jwt, PKCE and a DPoP proof: the tokens come back bound."""
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": settings.DEMO_REDIRECT_URI,
        "code_verifier": code_verifier,
    }
    return _authorization_server(flow, "/oauth/token", data)


def refresh(flow: dict, refresh_token: str) -> Reply:
    """RFC 6749 §6 with private_key_jwt and a proof of the same DPoP key: the new token stays bound."""
    return _authorization_server(
        flow, "/oauth/token", {"grant_type": "refresh_token", "refresh_token": refresh_token}
    )


def authorize_url(request_uri: str) -> str:
    """RFC 9126 §4: the browser gets only ``client_id`` and ``request_uri``."""
    query = urllib.parse.urlencode({"client_id": client_id(), "request_uri": request_uri})
    return f"/oauth/authorize?{query}"


def _asks_for_api_nonce(reply: Reply) -> bool:
    return reply.status == 401 and 'error="use_dpop_nonce"' in reply.headers.get("www-authenticate", "")


def call_transfers_api(flow: dict, access_token: str, transfer: dict, *, scheme: str = "DPoP") -> Reply:
    """``POST /api/transfers/`` with ``Authorization: DPoP <token>`` and a proof carrying ``ath``
    (RFC 9449 §7.1); ``scheme="Bearer"`` sends the same token as a bearer token, without a proof."""
    url = settings.DEMO_AS_URL.rstrip("/") + "/api/transfers/"
    body = json.dumps(transfer).encode()
    headers = {"Content-Type": "application/json", "Authorization": f"{scheme} {access_token}"}
    if scheme != "DPoP":
        return _send(url, body, headers)
    retried = False
    while True:
        proof = dpop_proof(
            flow["dpop_key"], "POST", url, nonce=flow.get("api_nonce"), access_token=access_token
        )
        reply = _send(url, body, {**headers, "DPoP": proof})
        if reply.headers.get("dpop-nonce"):
            flow["api_nonce"] = reply.headers["dpop-nonce"]
        if not (_asks_for_api_nonce(reply) and reply.headers.get("dpop-nonce")) or retried:
            reply.nonce_retried = retried
            return reply
        retried = True
