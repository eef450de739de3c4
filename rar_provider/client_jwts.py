"""What client assertions (RFC 7523) and request objects (RFC 9101) share: a compact JWS signed with
one of the client's registered keys, time claims, an audience, and a ``jti`` used once.

Every function raises :class:`ClientJWTError` with a description that names what was wrong; the
callers turn it into ``invalid_client`` (client authentication) or ``invalid_request_object``.
Nothing here trusts the JWS header beyond choosing a registered key: ``jwk``, ``jku``, ``x5u`` and
``x5c`` are never used (RFC 8725 §3.10), and a ``crit`` header is refused (RFC 7515 §4.1.11).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import time
from collections.abc import Iterable
from typing import Any

from django.core.cache import caches
from jwcrypto import jws
from jwcrypto.common import JWException

from .client_keys import ClientKeysError, parse_client_jwks, select_key
from .conf import rar_settings


class ClientJWTError(Exception):
    """A client-signed JWT was refused; ``description`` says why."""

    def __init__(self, description: str):
        super().__init__(description)
        self.description = description


def _b64_json(segment: str, what: str, name: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        value = json.loads(raw.decode("utf-8"), object_pairs_hook=_unique)
    except (binascii.Error, ValueError, UnicodeDecodeError, RecursionError):
        raise ClientJWTError(f"{name}'s {what} is not base64url-encoded JSON.") from None
    if not isinstance(value, dict):
        raise ClientJWTError(f"{name}'s {what} is not a JSON object.")
    try:  # RFC 8259 §8.2: a \ud800 escape without its pair is not Unicode text
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise ClientJWTError(f"{name}'s {what} holds an unpaired surrogate, not Unicode text.") from None
    return value


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate member {key!r}")
        result[key] = value
    return result


def split_compact(token: str, name: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The unverified header and claims of a compact JWS (RFC 7515 §7.1); never of a JWE."""
    parts = token.split(".")
    if len(parts) == 5:
        raise ClientJWTError(f"{name} is encrypted (a JWE); only signed JWTs are accepted.")
    if len(parts) != 3:
        raise ClientJWTError(f"{name} is not a JWS in compact serialization (three dot-separated parts).")
    return _b64_json(parts[0], "header", name), _b64_json(parts[1], "payload", name)


def check_header(header: dict[str, Any], name: str, allowed_algs: Iterable[str], typs: Iterable[str]) -> str:
    """The header's ``alg`` if it is allowed; ``typ`` (if any) one of ``typs`` (case-insensitive,
    RFC 7515 §4.1.9, ``application/`` prefix optional); no ``crit``."""
    allowed = list(allowed_algs)
    alg = header.get("alg")
    if not isinstance(alg, str):
        raise ClientJWTError(f"{name}'s header has no alg.")
    if alg not in allowed:
        raise ClientJWTError(
            f"{name} is signed with alg {alg[:20]!r}; this server accepts {', '.join(allowed)}."
        )
    if "crit" in header:
        raise ClientJWTError(
            f"{name}'s header has crit; no critical extension is understood (RFC 7515 §4.1.11)."
        )
    typ = header.get("typ")
    if typ is not None:
        normalized = typ.lower().removeprefix("application/") if isinstance(typ, str) else None
        if normalized not in {value.lower() for value in typs}:
            raise ClientJWTError(f"{name} has typ {str(typ)[:40]!r}; expected {' or '.join(typs)} or none.")
    if header.get("cty") is not None:
        raise ClientJWTError(f"{name} has cty: nested JWTs are not accepted.")
    return alg


def verify_signature(token: str, client, header: dict[str, Any], alg: str, name: str, allowed_algs) -> None:
    """Verify ``token`` with the client's registered key that the header names (``kid``)."""
    policy = getattr(client, "rar_policy", None)
    text = (policy.jwks if policy is not None else "") or ""
    if not text.strip():
        raise ClientJWTError(f"client {client.client_id!r} has no registered public keys to verify {name}.")
    try:
        key = select_key(parse_client_jwks(text, allowed_algs), header.get("kid"), alg)
    except ClientKeysError as exc:
        raise ClientJWTError(f"{name}: {exc}") from None
    verifier = jws.JWS()
    verifier.allowed_algs = [alg]
    try:
        verifier.deserialize(token)
        verifier.verify(key.key, alg=alg)
    except (JWException, ValueError, TypeError):
        raise ClientJWTError(
            f"{name}'s signature does not verify with the client's key {key.kid!r}."
        ) from None


def _number(claims: dict[str, Any], claim: str, name: str) -> float | None:
    value = claims.get(claim)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ClientJWTError(f"{name}'s {claim} is not a number of seconds (RFC 7519 §2 NumericDate).")
    return value


def check_times(claims: dict[str, Any], name: str, max_lifetime: int, *, now: float | None = None) -> float:
    """``exp`` required, in the future and at most ``max_lifetime`` seconds away (from now, from
    ``iat`` and from ``nbf``); ``iat`` and ``nbf`` not in the future; ``nbf`` not older than
    ``max_lifetime``. ``JWT_LEEWAY`` seconds of clock skew. Returns ``exp``."""
    now = time.time() if now is None else now
    leeway = rar_settings.JWT_LEEWAY
    exp = _number(claims, "exp", name)
    if exp is None:
        raise ClientJWTError(f"{name} has no exp; it must expire (RFC 7523 §3).")
    if exp + leeway <= now:
        raise ClientJWTError(f"{name} has expired (exp is {int(now - exp)} seconds ago).")
    if exp - now > max_lifetime + leeway:
        raise ClientJWTError(f"{name} lives too long: exp is more than {max_lifetime} seconds away.")
    for claim in ("iat", "nbf"):
        value = _number(claims, claim, name)
        if value is None:
            continue
        if value > now + leeway:
            raise ClientJWTError(f"{name}'s {claim} is in the future.")
        if exp - value > max_lifetime + leeway:
            raise ClientJWTError(f"{name} lives too long: exp - {claim} is more than {max_lifetime} seconds.")
    return exp


def check_audience(claims: dict[str, Any], name: str, accepted: Iterable[str]) -> None:
    """``aud`` is one accepted value: a string, or an array of exactly one string (several
    audiences are refused: an assertion meant for several servers is not this server's alone)."""
    accepted = list(dict.fromkeys(accepted))
    aud = claims.get("aud")
    if isinstance(aud, list) and len(aud) == 1:
        aud = aud[0]
    if aud is None:
        raise ClientJWTError(f"{name} has no aud; it must be {accepted[0]}.")
    if not isinstance(aud, str):
        raise ClientJWTError(f"{name}'s aud must be one string, {accepted[0]}.")
    if aud not in accepted:
        raise ClientJWTError(
            f"{name}'s aud {aud[:200]!r} is not this server; it must be {' or '.join(accepted)}."
        )


def use_once(
    client_id: str, claims: dict[str, Any], name: str, exp: float, *, token: str | None = None
) -> None:
    """Remember the ``jti`` (or, when ``token`` is given and there is no ``jti``, the token itself)
    in ``REPLAY_CACHE`` until ``exp`` (plus leeway); a second use is refused.

    The cache's atomic ``add`` decides between concurrent uses; a cache shared by every process
    (Redis) makes it hold across a cluster (checked by ``rar_provider.W040``).
    """
    jti = claims.get("jti")
    if jti is None and token is not None:
        seen = "token:" + hashlib.sha256(token.encode()).hexdigest()
    else:
        if not isinstance(jti, str) or not jti:
            raise ClientJWTError(f"{name} has no jti; it is needed to refuse a replay (RFC 7519 §4.1.7).")
        if len(jti) > 255:
            raise ClientJWTError(f"{name}'s jti is longer than 255 characters.")
        seen = "jti:" + jti
    key = "rar:jwt-used:" + hashlib.sha256(f"{client_id}\0{seen}".encode()).hexdigest()
    timeout = max(1, math.ceil(exp + rar_settings.JWT_LEEWAY - time.time()))
    if not caches[rar_settings.REPLAY_CACHE].add(key, 1, timeout=timeout):
        raise ClientJWTError(f"{name} has been used already (its jti was seen before); make a new one.")
