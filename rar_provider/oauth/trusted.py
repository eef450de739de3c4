"""Attributes that our own code set on an oauthlib ``Request``.

oauthlib exposes every query/body parameter as an attribute of its
``Request`` (through ``__getattr__``). A value *we* put there (the validated
details, "this request came through PAR") must never be confused with a
parameter a client sent under the same name, so we read it from the
instance dict only.
"""

from __future__ import annotations

from typing import Any

#: Whether the request came through PAR. rar_provider's own endpoints (authorization and PAR)
#: always set it, True or False; its absence means another caller of the server classes (DOT's
#: own ``AuthorizationView``), which shows no consent for authorization_details.
PUSHED = "rar_pushed"
DETAILS = "rar_details"
RESOURCE_SERVER = "rar_resource_server"
DETAIL_TYPES = "rar_detail_types"
#: The whole grant, when the access token gets a narrower subset (RFC 9396 §6).
GRANTED = "rar_granted"
#: The access token row this request created (to remember a code's redemption).
ACCESS_TOKEN = "rar_access_token"
#: Indices of the requested entries the user approved (partial approval, RFC 9396 §3).
APPROVED = "rar_approved"
#: The grant (approval) a code or refresh token belongs to (:mod:`rar_provider.grants`).
GRANT_ID = "rar_grant_id"
#: For each entry of the access token being issued, its position in the grant (computed once).
GRANT_ENTRIES = "rar_grant_entries"


def trusted(request: Any, name: str, default: Any = None) -> Any:
    """Return an attribute our code set on ``request``, ignoring client parameters."""
    return vars(request).get(name, default)


def through_our_endpoints(request: Any) -> bool:
    """True when rar_provider's authorization or PAR endpoint built ``request`` (see ``PUSHED``)."""
    return PUSHED in vars(request)


def record_details(request: Any, details: list[dict], resource_server: Any, detail_types: Any = None) -> None:
    """Remember the validated (or stored) details, their API and registered types on ``request``."""
    setattr(request, DETAILS, details)
    setattr(request, RESOURCE_SERVER, resource_server)
    setattr(request, DETAIL_TYPES, detail_types or {})


def granted_details(request: Any) -> list[dict]:
    """The whole grant: what a refresh token keeps even when the access token is narrower."""
    granted = trusted(request, GRANTED)
    return granted if granted is not None else (trusted(request, DETAILS) or [])


def grant_of(request: Any) -> tuple[str, list[int]]:
    """``(grant_id, grant_entries)`` of the access token this request issues; ``("", [])`` for none.

    Computed once per request, after narrowing (RFC 9396 §6) chose the token's entries.
    """
    grant_id = trusted(request, GRANT_ID) or ""
    if not grant_id:
        return "", []
    entries = trusted(request, GRANT_ENTRIES)
    if entries is None:
        from ..grants import grant_entries
        from ..policy import detail_comparators

        details = trusted(request, DETAILS) or []
        entries = grant_entries(details, granted_details(request), detail_comparators())
        setattr(request, GRANT_ENTRIES, entries)
    return grant_id, entries
