"""DRF permissions on the ``authorization_details`` of a verified access token (RFC 9396 §9.1).

``HasAuthorizationDetail.of("money_transfer", actions=["initiate"])`` passes when
the token carries at least one ``money_transfer`` entry whose ``actions``
include every listed action (and whose ``locations`` include every listed
location, if any are listed). The entries that qualify are appended to
``request.auth.matching_details`` for the view to read.

A denial is 403 with ``WWW-Authenticate: Bearer error="insufficient_scope"``:
RFC 6750 §3.1 defines that code for "the request requires higher privileges
than provided by the access token", and RFC 9396 defines no resource-server
error of its own. ``error_description`` says exactly what was missing.

The denial is raised (not returned), so it carries its header with DRF's
default exception handler; as a consequence, do not combine these classes
with ``|`` (the first denial ends the check): subclass and override
:meth:`HasAuthorizationDetail.matching` instead.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from rest_framework import exceptions
from rest_framework.permissions import BasePermission

from .authentication import JWTAccessTokenAuthentication, VerifiedAccessToken, bearer_challenge
from .dpop import dpop_challenge

INSUFFICIENT_SCOPE = "insufficient_scope"


class InsufficientAuthorization(exceptions.PermissionDenied):
    """RFC 6750 §3.1 ``insufficient_scope``: 403 with a ``WWW-Authenticate`` challenge saying why."""

    def __init__(self, description: str, realm: str | None = None, *, dpop_bound: bool = False):
        self.description = description
        self.auth_header = (
            dpop_challenge(realm, INSUFFICIENT_SCOPE, description)
            if dpop_bound
            else bearer_challenge(realm, INSUFFICIENT_SCOPE, description)
        )
        super().__init__({"detail": description, "error": INSUFFICIENT_SCOPE}, code=INSUFFICIENT_SCOPE)


def insufficient_authorization(request, description: str) -> InsufficientAuthorization:
    """The 403 for ``request``, with the realm of the class that authenticated it (for use in views)."""
    authenticator = getattr(request, "successful_authenticator", None)
    realm = authenticator.get_realm() if isinstance(authenticator, JWTAccessTokenAuthentication) else None
    token = getattr(request, "auth", None)
    # RFC 9449 §7.1: a DPoP-bound token's request is answered with the DPoP scheme.
    bound = isinstance(token, VerifiedAccessToken) and bool(token.dpop_jkt)
    return InsufficientAuthorization(description, realm, dpop_bound=bound)


def _strings(value: Any) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def find_details(
    details: Iterable[dict[str, Any]],
    detail_type: str,
    actions: Iterable[str] = (),
    locations: Iterable[str] = (),
) -> list[dict[str, Any]]:
    """The entries of ``detail_type`` whose ``actions``/``locations`` (RFC 9396 §2.2) include all given.

    An entry that omits ``actions`` does not satisfy required actions (and likewise
    ``locations``): a missing common field is not read as "anything".
    """
    actions, locations = set(actions), set(locations)
    return [
        detail
        for detail in details
        if isinstance(detail, dict)
        and detail.get("type") == detail_type
        and actions <= set(_strings(detail.get("actions")))
        and locations <= set(_strings(detail.get("locations")))
    ]


class HasAccessToken(BasePermission):
    """The request was authenticated with a valid access token for this API (any details, any subject)."""

    def has_permission(self, request, view) -> bool:
        return isinstance(request.auth, VerifiedAccessToken)


class HasAuthorizationDetail(BasePermission):
    """The token carries a detail of ``detail_type`` allowing ``actions`` at ``locations`` (RFC 9396 §2).

    Configure with :meth:`of` or by subclassing and setting the attributes.
    Without a bearer token (another authentication, or none) it answers False
    and DRF replies 401 (or 403 to an other kind of login).
    """

    detail_type: str = ""
    actions: tuple[str, ...] = ()
    locations: tuple[str, ...] = ()

    @classmethod
    def of(
        cls, detail_type: str, *, actions: Iterable[str] = (), locations: Iterable[str] = ()
    ) -> type[HasAuthorizationDetail]:
        """A permission class requiring a ``detail_type`` entry with all ``actions`` and ``locations``."""
        if isinstance(actions, str) or isinstance(locations, str):
            raise TypeError("actions and locations are lists of strings, not a string")
        return type(
            f"{cls.__name__}_{detail_type}",
            (cls,),
            {
                "detail_type": detail_type,
                "actions": tuple(actions),
                "locations": tuple(locations),
                "__module__": cls.__module__,
            },
        )

    def matching(self, token: VerifiedAccessToken) -> list[dict[str, Any]]:
        """The token's entries that satisfy this permission."""
        if not self.detail_type:
            raise ImproperlyConfigured(f"{type(self).__name__} has no detail_type; use .of('type', ...)")
        return find_details(token.authorization_details, self.detail_type, self.actions, self.locations)

    def denial(self, token: VerifiedAccessToken) -> str:
        """Why the token is not enough, in plain words (the ``error_description``)."""
        if not find_details(token.authorization_details, self.detail_type):
            return f"the token carries no {self.detail_type} authorization detail"
        wanted = []
        if self.actions:
            wanted.append("the actions " + ", ".join(self.actions))
        if self.locations:
            wanted.append("the locations " + ", ".join(self.locations))
        return f"no {self.detail_type} authorization detail of the token allows {' at '.join(wanted)}"

    def has_permission(self, request, view) -> bool:
        token = request.auth
        if not isinstance(token, VerifiedAccessToken):
            return False
        matching = self.matching(token)
        if not matching:
            raise insufficient_authorization(request, self.denial(token))
        token.matching_details.extend(detail for detail in matching if detail not in token.matching_details)
        return True
