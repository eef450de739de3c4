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
from jwcrypto.common import JWException, base64url_decode

from .keys import SIGNING_ALGS, SigningKey, algorithms_for

JWT_TYPE = "at+jwt"  # RFC 9068 §2.1
#: The ``gty`` claim of a token a client obtained for itself (client credentials, RFC 6749 §4.4): no
#: user is involved and ``sub`` is the client_id (RFC 9068 §2.2). User tokens carry no ``gty``, so a
#: resource server never has to compare ``sub`` with ``client_id`` to tell the two apart.
CLIENT_CREDENTIALS = "client_credentials"
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
    client_acts_for_itself: bool = False,
    grant_id: str = "",
    grant_entries: list[int] | None = None,
    dpop_jkt: str = "",
    now: int | None = None,
) -> dict[str, Any]:
    """RFC 9068 §2.2 claims, plus RFC 9396 §9.1 ``authorization_details`` in full.

    ``client_acts_for_itself`` (client credentials): ``gty: "client_credentials"`` marks the token
    as the client's own (``subject`` is then its client_id); a user's token has no ``gty``.
    ``grant_id`` and ``grant_entries`` (:mod:`rar_provider.grants`) name the approval and, for each
    entry of ``authorization_details``, its position in that approval. ``dpop_jkt``: the thumbprint
    of the DPoP key the token is bound to, as ``cnf: {"jkt": …}`` (RFC 9449 §6.1).
    """
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
    if client_acts_for_itself:
        claims["gty"] = CLIENT_CREDENTIALS
    if scope:
        claims["scope"] = scope
    if authorization_details:
        claims["authorization_details"] = authorization_details
    if grant_id:
        claims["grant_id"] = grant_id
        claims["grant_entries"] = list(grant_entries or [])
    if dpop_jkt:
        claims["cnf"] = {"jkt": dpop_jkt}
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


#: Longest access token a resource server reads, in characters; a longer one is refused unread.
MAX_TOKEN_LENGTH = 32768
#: Longest piece of an attacker-chosen value (a header's ``alg``, say) repeated in an error message.
_ECHO_LIMIT = 40


def _echo(value: Any) -> str:
    """``repr(value)``, cut to a few dozen characters: error messages never carry a long forged value."""
    text = repr(value)
    return text if len(text) <= _ECHO_LIMIT else text[: _ECHO_LIMIT - 1] + "…"


def _protected_header(token: str) -> dict[str, Any]:
    """The decoded protected header (first part) of a compact JWS/JWE, read before any crypto."""
    first = token.split(".", 1)[0]
    try:
        header = json.loads(base64url_decode(first))
    except (ValueError, TypeError) as exc:
        raise InvalidAccessToken("the token's header is not base64url-encoded JSON") from exc
    if not isinstance(header, dict):
        raise InvalidAccessToken("the token's header is not a JSON object")
    return header


def decrypt(
    token: str,
    private_key: jwk.JWK | jwk.JWKSet,
    *,
    algorithms: tuple[str, ...] = KEY_ENCRYPTION_ALGS,
    encryptions: tuple[str, ...] = CONTENT_ENCRYPTION_ALGS,
) -> str:
    """The signed JWT inside an encrypted access token (a resource server holds ``private_key``).

    RFC 7516 §4.1.3: a compressed (``zip``) token is refused before decryption: anyone holding the
    API's *public* key can make one that inflates a few kilobytes into many megabytes. ``alg`` and
    ``enc`` must be among the given ones (RFC 8725 §3.1). Raises :class:`InvalidAccessToken`.
    """
    if len(token) > MAX_TOKEN_LENGTH:
        raise InvalidAccessToken(f"the token is longer than {MAX_TOKEN_LENGTH} characters")
    header = _protected_header(token)
    if "zip" in header:
        raise InvalidAccessToken("compressed (zip) encrypted tokens are not accepted")
    if header.get("alg") not in algorithms:
        raise InvalidAccessToken(
            f"the token's key encryption algorithm {_echo(header.get('alg'))} is not accepted"
        )
    if header.get("enc") not in encryptions:
        raise InvalidAccessToken(f"the token's content encryption {_echo(header.get('enc'))} is not accepted")
    envelope = jwe.JWE()
    try:
        envelope.deserialize(token, key=private_key)
    except (JWException, ValueError) as exc:
        raise InvalidAccessToken("the token cannot be decrypted with this API's key") from exc
    try:
        return envelope.payload.decode()
    except UnicodeDecodeError as exc:
        raise InvalidAccessToken("the decrypted token is not text") from exc


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_claim_types(claims: dict[str, Any]) -> None:
    """RFC 7519 §4.1 / RFC 9068 §2.2 / RFC 9396 §9.1: each claim we rely on has its JSON type."""
    for name in ("iss", "sub", "client_id", "jti"):
        if not isinstance(claims.get(name), str) or not claims[name]:
            raise InvalidAccessToken(f"the token has no {name} claim (RFC 9068 §2.2)")
    for name in ("exp", "iat"):
        if not _is_number(claims.get(name)):
            raise InvalidAccessToken(f"the token has no numeric {name} claim (RFC 9068 §2.2)")
    if "nbf" in claims and not _is_number(claims["nbf"]):
        raise InvalidAccessToken("the token's nbf claim is not a number")
    audiences = claims.get("aud")
    audiences = audiences if isinstance(audiences, list) else [audiences]
    if not audiences or not all(isinstance(audience, str) for audience in audiences):
        raise InvalidAccessToken("the token's aud claim is not a string or an array of strings")
    if "scope" in claims and not isinstance(claims["scope"], str):
        raise InvalidAccessToken("the token's scope claim is not a string")
    details = claims.get("authorization_details", [])
    if not isinstance(details, list) or not all(
        isinstance(entry, dict) and isinstance(entry.get("type"), str) for entry in details
    ):
        raise InvalidAccessToken(
            "the token's authorization_details is not an array of objects with a type (RFC 9396 §2)"
        )
    if "grant_id" in claims and (not isinstance(claims["grant_id"], str) or not claims["grant_id"]):
        raise InvalidAccessToken("the token's grant_id claim is not a string")
    entries = claims.get("grant_entries", list(range(len(details))))
    if (
        not isinstance(entries, list)
        or len(entries) != len(details)
        or not all(isinstance(entry, int) and not isinstance(entry, bool) and entry >= 0 for entry in entries)
    ):
        raise InvalidAccessToken(
            "the token's grant_entries is not one position per authorization_details entry"
        )
    confirmation = claims.get("cnf", {})
    if not isinstance(confirmation, dict) or not isinstance(confirmation.get("jkt", ""), str):
        raise InvalidAccessToken("the token's cnf claim is not an object with a string jkt (RFC 9449 §6.1)")


def verify(
    token: str,
    keys: jwk.JWKSet,
    *,
    issuer: str,
    audience: str,
    leeway: int = 30,
    max_lifetime: int | None = None,
    algorithms: tuple[str, ...] = SIGNING_ALGS,
    now: int | None = None,
) -> dict[str, Any]:
    """RFC 9068 §4 and RFC 8725: verify a signed JWT access token; return its claims.

    Checked, in order: compact form and length; ``typ: at+jwt``; ``alg`` among ``algorithms`` and
    pinned to the key (the key's own ``alg`` member, else an algorithm of its type: an RS256 key never
    verifies a PS256 or RS512 signature); the signature; the JSON type of every claim relied on;
    ``iss``; ``aud``; ``exp``, ``nbf`` and ``iat`` with ``leeway`` seconds of clock skew; and, when
    ``max_lifetime`` (seconds) is given, ``exp - iat`` and ``exp - now`` within it.
    Raises :class:`InvalidAccessToken` saying which check failed (forged values are echoed cut short).
    """
    # RFC 7519 §7.2: a JWT is compact. jwcrypto also reads the JSON serialization, whose
    # unprotected header could supply the typ the signed header lacks (RFC 8725 §3.11).
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH or not _COMPACT_JWS.fullmatch(token):
        raise InvalidAccessToken("the token is not a signed JWT")
    try:
        parsed = jws.JWS()
        parsed.deserialize(token)
        header = parsed.jose_header
    except (JWException, ValueError) as exc:
        raise InvalidAccessToken("the token is not a signed JWT") from exc
    if str(header.get("typ", "")).lower() not in (JWT_TYPE, "application/" + JWT_TYPE):
        raise InvalidAccessToken("the token is not a JWT access token (typ is not at+jwt)")
    alg = header.get("alg")
    if alg not in SIGNING_ALGS or alg not in algorithms:
        raise InvalidAccessToken(f"the token's algorithm {_echo(alg)} is not accepted")
    key = keys.get_key(header["kid"]) if isinstance(header.get("kid"), str) else None
    if key is None:
        raise InvalidAccessToken("the token was not signed by a key of this issuer (unknown kid)")
    if alg not in algorithms_for(key):
        raise InvalidAccessToken(f"the token's algorithm {_echo(alg)} is not the one of its key")
    try:
        parsed.verify(key, alg=alg)
        claims = json.loads(parsed.payload)
    except (JWException, ValueError) as exc:
        raise InvalidAccessToken("the token's signature is not valid") from exc
    if not isinstance(claims, dict):
        raise InvalidAccessToken("the token's payload is not a JSON object")
    _check_claim_types(claims)
    moment = int(time.time()) if now is None else now
    if claims["iss"] != issuer:
        raise InvalidAccessToken(f"the token was issued by {_echo(claims['iss'])}, not {issuer!r}")
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    if audience not in audiences:
        raise InvalidAccessToken(f"the token is not meant for this API (aud is not {audience!r})")
    if moment > claims["exp"] + leeway:
        raise InvalidAccessToken("the token has expired")
    if claims["iat"] > moment + leeway:
        raise InvalidAccessToken("the token was issued in the future (iat)")
    if "nbf" in claims and claims["nbf"] > moment + leeway:
        raise InvalidAccessToken("the token is not valid yet (nbf)")
    if max_lifetime is not None and (
        claims["exp"] - claims["iat"] > max_lifetime or claims["exp"] - moment > max_lifetime + leeway
    ):
        raise InvalidAccessToken(f"the token's lifetime exceeds this API's maximum of {max_lifetime} seconds")
    return claims
