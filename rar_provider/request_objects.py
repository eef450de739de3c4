"""Signed request objects at the PAR endpoint (JAR, RFC 9101; RFC 9126 §3).

A client may push its authorization request as one JWT, the ``request`` parameter, beside nothing
but ``client_id`` and its client authentication. :func:`read` accepts it only when

1. it is a compact JWS (never a JWE) whose ``alg`` is in ``REQUEST_OBJECT_SIGNING_ALGS``, without
   ``crit`` or ``cty``, ``typ`` absent, ``JWT`` or ``oauth-authz-req+jwt`` (RFC 9101 §10.8);
2. its signature verifies with the authenticated client's registered key named by ``kid`` (or its
   only key), registered for that ``alg``;
3. ``iss`` and the ``client_id`` claim are the client's ``client_id`` (RFC 9101 §4, RFC 9126 §3);
4. ``aud`` is the issuer identifier (a string or a one-element array);
5. ``exp`` is present, not past, at most ``REQUEST_OBJECT_MAX_LIFETIME`` seconds ahead (from now,
   ``iat`` and ``nbf``); ``iat``/``nbf`` not in the future (``JWT_LEEWAY``);
6. it was not pushed before: its ``jti`` — or, without one, the object itself — is remembered in
   ``REPLAY_CACHE`` until ``exp`` (:func:`use_once`, once the push has succeeded).

Its claims then *are* the authorization request (RFC 9101 §6.3): :func:`claim_pairs` turns them
into the ``(name, value)`` pairs a form would have carried — ``authorization_details`` (a JSON array
inside the object, RFC 9396 §3) as its JSON text, ``resource`` arrays as repeated pairs — which go
through the same table and pipeline as a form-encoded push and are what the pushed request stores.
Errors are :class:`RequestObjectError`, ``invalid_request_object`` unless said otherwise.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from . import client_jwts
from .client_jwts import ClientJWTError
from .conf import rar_settings
from .parameters import AUTHORIZATION_PARAMETERS

NAME = "the request object"
TYPES = ("JWT", "oauth-authz-req+jwt")
#: Claims about the JWT itself, not authorization request parameters.
JWT_CLAIMS = frozenset({"iss", "sub", "aud", "exp", "iat", "nbf", "jti"})
#: RFC 9126 §3: the only parameters a push with a request object may carry beside it.
ALLOWED_BESIDE = frozenset(
    {"request", "client_id", "client_secret", "client_assertion", "client_assertion_type"}
)


class RequestObjectError(Exception):
    """A request object was refused: RFC 6749 §5.2 ``error`` and a description naming the rule."""

    def __init__(self, description: str, error: str = "invalid_request_object"):
        super().__init__(description)
        self.error, self.description = error, description


@dataclass(frozen=True)
class RequestObject:
    """A verified request object: its claims, their pairs, its ``exp`` and the JWT itself."""

    token: str
    claims: dict[str, Any]
    pairs: list[tuple[str, str]]
    exp: float


def parameters_beside(form_pairs: list[tuple[str, str]]) -> list[str]:
    """Names sent beside ``request`` that RFC 9126 §3 does not allow there, sorted."""
    return sorted({name for name, _ in form_pairs} - ALLOWED_BESIDE)


def claim_pairs(claims: dict[str, Any]) -> list[tuple[str, str]]:
    """The authorization request a request object's claims carry, as form pairs (module docstring)."""
    pairs: list[tuple[str, str]] = []
    for name, value in claims.items():
        if name in ("request", "request_uri"):
            raise RequestObjectError(f"{name} must not appear inside a request object (RFC 9101 §4).")
        if name in JWT_CLAIMS or name not in AUTHORIZATION_PARAMETERS:
            continue  # RFC 6749 §3.1: parameters the server does not know are ignored
        if name == "authorization_details":
            if not isinstance(value, list):
                raise RequestObjectError(
                    "authorization_details in a request object must be a JSON array (RFC 9396 §3), "
                    f"not {type(value).__name__ if not isinstance(value, str) else 'a string'}.",
                    error="invalid_authorization_details",
                )
            pairs.append((name, json.dumps(value, ensure_ascii=False)))
        elif name == "resource" and isinstance(value, list):
            if not all(isinstance(item, str) and "\x00" not in item for item in value):
                raise RequestObjectError("resource in a request object must be URI strings (no NUL).")
            pairs.extend((name, item) for item in value)
        elif isinstance(value, str):
            if "\x00" in value:  # as in a form (rar_provider.form): no parameter holds a NUL
                raise RequestObjectError(f"{name} in a request object contains a NUL character.")
            pairs.append((name, value))
        else:
            raise RequestObjectError(
                f"{name} in a request object must be a string, not {type(value).__name__}."
            )
    return pairs


def read(token: str, client, *, issuer: str, form_pairs: list[tuple[str, str]]) -> RequestObject:
    """Verify ``token`` as ``client``'s request object and return it (module docstring, 1–5)."""
    try:
        header, claims = client_jwts.split_compact(token, NAME)
        allowed = rar_settings.REQUEST_OBJECT_SIGNING_ALGS
        alg = client_jwts.check_header(header, NAME, allowed, TYPES)
        client_jwts.verify_signature(token, client, header, alg, NAME, allowed)
        for claim in ("iss", "client_id"):
            value = claims.get(claim)
            if value != client.client_id:
                raise ClientJWTError(
                    f"{NAME}'s {claim} must be the client_id {client.client_id!r}"
                    + (f", not {str(value)[:80]!r}." if value is not None else "; it is missing.")
                )
        exp = client_jwts.check_times(claims, NAME, rar_settings.REQUEST_OBJECT_MAX_LIFETIME)
        client_jwts.check_audience(claims, NAME, [issuer])
    except ClientJWTError as error:
        raise RequestObjectError(error.description) from None
    beside = parameters_beside(form_pairs)
    if beside:
        raise RequestObjectError(
            f"{', '.join(beside)} must not be sent beside request: with a request object the request is "
            "its claims, and only client_id and client authentication go beside it (RFC 9126 §3).",
            error="invalid_request",
        )
    return RequestObject(token=token, claims=claims, pairs=claim_pairs(claims), exp=exp)


def use_once(request_object: RequestObject, client) -> None:
    """Step 6: a request object is pushed once (``RequestObjectError`` the second time)."""
    try:
        client_jwts.use_once(
            client.client_id,
            request_object.claims,
            NAME,
            request_object.exp,
            token=request_object.token,
        )
    except ClientJWTError as error:
        raise RequestObjectError(error.description) from None
