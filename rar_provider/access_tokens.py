"""JWT access tokens (RFC 9068) and their encryption to an API (RFC 7516 JWE).

Pure functions: the claims, the signed JWT, the encrypted JWT, and the
verification a resource server runs. The oauthlib side (which request gets
which format) is :mod:`rar_provider.oauth.token_generator`.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from typing import Any

from jwcrypto import jwe, jwk, jws, jwt
from jwcrypto.common import JWException

from .keys import SIGNING_ALGS, SigningKey

JWT_TYPE = "at+jwt"  # RFC 9068 §2.1
_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+")
#: RFC 7518 §4.1 / §5.1: key management and content encryption algorithms offered for JWE APIs.
KEY_ENCRYPTION_ALGS = ("RSA-OAEP-256", "RSA-OAEP", "ECDH-ES+A256KW", "ECDH-ES+A128KW")
CONTENT_ENCRYPTION_ALGS = ("A256GCM", "A128GCM", "A256CBC-HS512", "A128CBC-HS256")


class InvalidAccessToken(Exception):
    """The token is not a valid JWT access token for this resource server; the message says why."""


def build_claims(
    *,
    issuer: str,
    audience: str,
    subject: str,
    client_id: str,
    expires_in: int,
    scope: str = "",
    authorization_details: list[dict] | None = None,
    now: int | None = None,
) -> dict[str, Any]:
    """RFC 9068 §2.2 claims, plus RFC 9396 §9.1 ``authorization_details`` in full."""
    issued_at = int(time.time()) if now is None else now
    claims: dict[str, Any] = {
        "iss": issuer,
        "sub": subject,
        "aud": audience,
        "exp": issued_at + int(expires_in),
        "iat": issued_at,
        "jti": secrets.token_urlsafe(16),
        "client_id": client_id,
    }
    if scope:
        claims["scope"] = scope
    if authorization_details:
        claims["authorization_details"] = authorization_details
    return claims


def sign(claims: dict[str, Any], key: SigningKey) -> str:
    """RFC 9068 §2.1: a JWS with ``typ: at+jwt`` and the signing key's ``kid``.

    The claims go in as JSON text: jwcrypto would sort the members of a dict, and RFC 9396
    ``authorization_details`` keep the members in the order the client sent them.
    """
    payload = json.dumps(claims, separators=(",", ":"))
    token = jwt.JWT(header={"alg": key.alg, "typ": JWT_TYPE, "kid": key.kid}, claims=payload)
    token.make_signed_token(key.key)
    return token.serialize()


def load_public_key(text: str) -> jwk.JWK:
    """An API's registered encryption key: a public JWK (JSON) or a PEM public key/certificate.

    Raises ValueError with a readable message.
    """
    text = (text or "").strip()
    if not text:
        raise ValueError("no key was given")
    try:
        key = jwk.JWK.from_json(text) if text.startswith("{") else jwk.JWK.from_pem(text.encode())
    except (JWException, ValueError, TypeError) as exc:
        raise ValueError(f"not a readable public key (JWK JSON or PEM): {exc}") from exc
    if key.get("kty") not in ("RSA", "EC"):
        raise ValueError(f"a {key.get('kty')} key cannot receive encrypted tokens: use an RSA or EC key")
    return key


def encrypt(signed_token: str, public_key: jwk.JWK, alg: str = "RSA-OAEP-256", enc: str = "A256GCM") -> str:
    """RFC 7519 §5.2 nested JWT: the signed token encrypted to the API (``cty: JWT``)."""
    header = {"alg": alg, "enc": enc, "cty": "JWT", "typ": "JWT"}
    if public_key.get("kid"):
        header["kid"] = public_key.get("kid")
    token = jwe.JWE(signed_token.encode(), protected=json.dumps(header))
    token.add_recipient(public_key)
    return token.serialize(compact=True)


def decrypt(token: str, private_key: jwk.JWK) -> str:
    """The signed JWT inside an encrypted access token (a resource server holds ``private_key``)."""
    envelope = jwe.JWE()
    try:
        envelope.deserialize(token, key=private_key)
    except (JWException, ValueError) as exc:
        raise InvalidAccessToken(f"the token cannot be decrypted with this API's key: {exc}") from exc
    return envelope.payload.decode()


def verify(
    token: str,
    keys: jwk.JWKSet,
    *,
    issuer: str,
    audience: str,
    leeway: int = 30,
    now: int | None = None,
) -> dict[str, Any]:
    """RFC 9068 §4: check ``typ``, the signature, ``iss``, ``aud`` and ``exp``; return the claims."""
    # RFC 7519 §7.2: a JWT is compact. jwcrypto also reads the JSON serialization, whose
    # unprotected header could supply the typ the signed header lacks (RFC 8725 §3.11).
    if not isinstance(token, str) or not _COMPACT_JWS.fullmatch(token):
        raise InvalidAccessToken("the token is not a signed JWT")
    try:
        parsed = jws.JWS()
        parsed.deserialize(token)
        header = parsed.jose_header
    except (JWException, ValueError) as exc:
        raise InvalidAccessToken("the token is not a signed JWT") from exc
    if str(header.get("typ", "")).lower() not in (JWT_TYPE, "application/" + JWT_TYPE):
        raise InvalidAccessToken("the token is not a JWT access token (typ is not at+jwt)")
    if header.get("alg") not in SIGNING_ALGS:
        raise InvalidAccessToken(f"the token's algorithm {header.get('alg')!r} is not accepted")
    key = keys.get_key(header["kid"]) if header.get("kid") else None
    if key is None:
        raise InvalidAccessToken("the token was not signed by a key of this issuer (unknown kid)")
    try:
        parsed.verify(key, alg=header["alg"])
        claims = json.loads(parsed.payload)
    except (JWException, ValueError) as exc:
        raise InvalidAccessToken("the token's signature is not valid") from exc
    if not isinstance(claims, dict):
        raise InvalidAccessToken("the token's payload is not a JSON object")
    moment = int(time.time()) if now is None else now
    if claims.get("iss") != issuer:
        raise InvalidAccessToken(f"the token was issued by {claims.get('iss')!r}, not {issuer!r}")
    audiences = claims.get("aud")
    audiences = audiences if isinstance(audiences, list) else [audiences]
    if audience not in audiences:
        raise InvalidAccessToken(f"the token is not meant for this API (aud is not {audience!r})")
    expires = claims.get("exp")
    if not isinstance(expires, int | float) or isinstance(expires, bool):
        raise InvalidAccessToken("the token has no exp claim")
    if moment > expires + leeway:
        raise InvalidAccessToken("the token has expired")
    issued = claims.get("iat")
    if isinstance(issued, int | float) and issued > moment + leeway:
        raise InvalidAccessToken("the token was issued in the future (iat)")
    return claims
