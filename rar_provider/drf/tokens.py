"""What the resource-server guard hands to views, and how it refuses (RFC 6750 §3, RFC 9068 §2.2).

* :class:`VerifiedAccessToken` is ``request.auth`` after a successful authentication;
* :class:`InvalidToken` (401 ``invalid_token``), :class:`InvalidBearerRequest` (400
  ``invalid_request``) and :class:`RevocationCheckUnavailable` (503) are its refusals, and
  :func:`bearer_challenge` builds their ``WWW-Authenticate`` header.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from rest_framework import exceptions, status

from .. import access_tokens

#: Longest ``error_description`` put in a challenge, in characters (RFC 6750 §3).
_MAX_DESCRIPTION = 300
#: RFC 6750 §3: characters allowed in a quoted ``error_description`` (no ``"`` and no ``\``).
_NOT_ALLOWED_IN_CHALLENGE = re.compile(r"[^\x20\x21\x23-\x5b\x5d-\x7e]")


@dataclass(repr=False)
class VerifiedAccessToken:
    """``request.auth`` after a successful authentication: the claims of a valid access token.

    ``matching_details`` is filled by :class:`~rar_provider.drf.permissions.HasAuthorizationDetail`:
    the entries of ``authorization_details`` that satisfied the view's permissions.
    """

    claims: dict[str, Any]
    encrypted: bool = False
    matching_details: list[dict[str, Any]] = field(default_factory=list)
    #: The DPoP proof that came with a DPoP-bound token (:mod:`rar_provider.drf.dpop`), else ``None``.
    dpop_proof: Any = None

    @property
    def dpop_jkt(self) -> str:
        """RFC 9449 §6.1: the thumbprint of the key the token is bound to (``cnf.jkt``), or ``""``."""
        confirmation = self.claims.get("cnf")
        return (confirmation.get("jkt") or "") if isinstance(confirmation, dict) else ""

    @property
    def subject(self) -> str:
        return self.claims["sub"]

    @property
    def client_id(self) -> str:
        return self.claims["client_id"]

    @property
    def jti(self) -> str:
        return self.claims["jti"]

    @property
    def scope(self) -> str:
        return self.claims.get("scope") or ""

    @property
    def scopes(self) -> frozenset[str]:
        return frozenset(self.scope.split())

    @property
    def authorization_details(self) -> list[dict[str, Any]]:
        """RFC 9396 §9.1: the granted details, in full."""
        return list(self.claims.get("authorization_details") or [])

    @property
    def is_client_token(self) -> bool:
        """A client acting for itself (client credentials): the token says so with
        ``gty: "client_credentials"`` (its ``sub`` is then its client_id, RFC 9068 §2.2).

        Never decided by comparing ``sub`` with ``client_id``: a client registered as ``"1"`` would
        otherwise read user 1's tokens as its own.
        """
        return self.claims.get("gty") == access_tokens.CLIENT_CREDENTIALS

    @property
    def grant_id(self) -> str:
        """The approval this token comes from (the ``grant_id`` claim; :mod:`rar_provider.grants`).

        Every token minted from one approval — refreshed or narrowed — has the same one. A token
        without the claim (a client's own token) is its own approval: ``"jti:<jti>"``.
        """
        return self.claims.get("grant_id") or f"jti:{self.jti}"

    def grant_entry(self, index: int) -> int:
        """The position in the approval of entry ``index`` of :attr:`authorization_details`.

        Record what an entry executed under ``(grant_id, grant_entry(index))``, unique: the entry
        is then executed once per approval, however many tokens carry it (issue 13).
        """
        entries = self.claims.get("grant_entries")
        return entries[index] if isinstance(entries, list) else index

    @property
    def expires_at(self) -> datetime:
        return datetime.fromtimestamp(self.claims["exp"], tz=UTC)

    def __repr__(self) -> str:
        return f"<VerifiedAccessToken sub={self.subject!r} client_id={self.client_id!r} jti={self.jti!r}>"


# --- errors ---------------------------------------------------------------------------------------


def challenge(
    scheme: str, realm: str | None, error: str | None = None, description: str | None = None, **extra: str
) -> str:
    """RFC 6750 §3 / RFC 9449 §7.1: a ``WWW-Authenticate`` challenge of ``scheme`` (``Bearer`` or
    ``DPoP``); values are made safe to quote, the description cut to 300 characters."""
    parts = []
    if description and len(description) > _MAX_DESCRIPTION:
        description = description[: _MAX_DESCRIPTION - 1] + "…"
    pairs = (("realm", realm), ("error", error), ("error_description", description), *extra.items())
    for name, value in pairs:
        if value:
            parts.append(f'{name}="{_NOT_ALLOWED_IN_CHALLENGE.sub("?", str(value))}"')
    return f"{scheme} " + ", ".join(parts) if parts else scheme


def bearer_challenge(realm: str | None, error: str | None = None, description: str | None = None) -> str:
    """RFC 6750 §3: a ``WWW-Authenticate: Bearer`` challenge; values are made safe to quote."""
    return challenge("Bearer", realm, error, description)


class InvalidToken(exceptions.AuthenticationFailed):
    """RFC 6750 §3.1 ``invalid_token``: 401; the challenge says why."""

    error = "invalid_token"

    def __init__(self, description: str):
        self.description = description
        super().__init__({"detail": description, "error": self.error})


class RevocationCheckUnavailable(exceptions.APIException):
    """503: the authorization server did not say whether the token is still live (fail closed)."""

    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "the authorization server could not confirm that the token is still valid"
    default_code = "temporarily_unavailable"


class InvalidBearerRequest(InvalidToken):
    """RFC 6750 §3.1 ``invalid_request``: a malformed ``Authorization: Bearer`` header, 400."""

    error = "invalid_request"
    status_code = status.HTTP_400_BAD_REQUEST
