"""``private_key_jwt`` client assertions (RFC 7523 §2.2 and §3, OpenID Connect Core §9).

:func:`verify` accepts an assertion only when

1. it is a compact JWS whose ``alg`` is in ``CLIENT_ASSERTION_SIGNING_ALGS`` (never ``none``, never
   HMAC), without ``crit`` or ``cty``, ``typ`` absent, ``JWT`` or ``client-authentication+jwt``;
2. its signature verifies with the client's registered key named by ``kid`` (or its only key),
   whose registered ``alg`` is the header's;
3. ``iss`` and ``sub`` are both the client's ``client_id``;
4. ``exp`` is present, not past, and at most ``CLIENT_ASSERTION_MAX_LIFETIME`` seconds ahead (from
   now, ``iat`` and ``nbf``); ``iat`` and ``nbf``, when present, not in the future (``JWT_LEEWAY``);
5. ``aud`` is the issuer identifier — a string or a one-element array (FAPI 2.0 §5.3.2.1); with
   ``CLIENT_ASSERTION_AUDIENCES = "issuer_or_endpoint"`` also the token endpoint's URL or the URL of
   the endpoint called;
6. ``jti`` is present and was not used before by this client (``REPLAY_CACHE``, until ``exp``).

Each failure is a :class:`~rar_provider.client_jwts.ClientJWTError` naming the rule; the
validator answers it ``401 invalid_client``.
"""

from __future__ import annotations

import contextlib
from urllib.parse import urlsplit

from django.urls import NoReverseMatch, reverse

from .adapter import get_adapter
from .client_jwts import (
    ClientJWTError,
    check_audience,
    check_header,
    check_times,
    split_compact,
    use_once,
    verify_signature,
)
from .conf import rar_settings

__all__ = ["ASSERTION_TYPE", "ClientJWTError", "accepted_audiences", "claimed_client_id", "verify"]

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
NAME = "client_assertion"
#: ``typ`` values accepted in the header (absent is accepted too).
TYPES = ("JWT", "client-authentication+jwt")


def claimed_client_id(assertion: str) -> str | None:
    """The unverified ``sub`` (else ``iss``) of an assertion: which client's keys to try. None if
    the assertion cannot be read (the verification then says why)."""
    try:
        _header, claims = split_compact(assertion, NAME)
    except ClientJWTError:
        return None
    value = claims.get("sub", claims.get("iss"))
    return value if isinstance(value, str) and value else None


def accepted_audiences(request) -> list[str]:
    """The ``aud`` values this server accepts for an assertion sent with ``request`` (oauthlib's)."""
    issuer = get_adapter().issuer(request)
    accepted = [issuer]
    if rar_settings.CLIENT_ASSERTION_AUDIENCES == "issuer_or_endpoint":
        with contextlib.suppress(NoReverseMatch):
            accepted.append(issuer + reverse("rar_provider:token"))
        path = urlsplit(getattr(request, "uri", "") or "").path
        if path:
            accepted.append(issuer + path)
    return accepted


def verify(assertion: str, client, request) -> dict:
    """The claims of ``assertion`` if it authenticates ``client`` (module docstring), else
    :class:`ClientJWTError`. ``request``: the oauthlib request (issuer, endpoint URL)."""
    header, claims = split_compact(assertion, NAME)
    allowed = rar_settings.CLIENT_ASSERTION_SIGNING_ALGS
    alg = check_header(header, NAME, allowed, TYPES)
    verify_signature(assertion, client, header, alg, NAME, allowed)
    for claim in ("iss", "sub"):
        if claims.get(claim) != client.client_id:
            shown = claims.get(claim)
            raise ClientJWTError(
                f"{NAME}'s {claim} must be the client_id {client.client_id!r}"
                + (f", not {str(shown)[:80]!r}." if shown is not None else "; it is missing.")
            )
    exp = check_times(claims, NAME, rar_settings.CLIENT_ASSERTION_MAX_LIFETIME)
    check_audience(claims, NAME, accepted_audiences(request))
    use_once(client.client_id, claims, NAME, exp)
    return claims
