"""One typed object per oauthlib request: what rar_provider validated and decided for it.

oauthlib hands its validators only its ``Request``, and exposes every query and body parameter as
an attribute of it (through ``__getattr__``). What *our* code learnt — the validated details, the
API, the grant — travels instead as one :class:`RequestContext`, kept in the request's instance
dict under :data:`KEY`, so a client parameter of any name can never be mistaken for it
(``vars(request)`` holds only what was set, never parameters).

The authorization view validates a request once and passes the same context into oauthlib's
``create_authorization_response`` (as a credential, which oauthlib sets on its new request):
oauthlib's second ``post_auth`` pass then reuses the validated details instead of parsing them
again (issue 10: one validation per HTTP request).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

KEY = "rar_context"


@dataclass
class RequestContext:
    """What rar_provider learnt about one authorization or token request.

    * ``pushed``: the request's parameters came from a PAR record (RFC 9126 §4). rar_provider's own
      endpoints always set it, True or False; ``None`` means another caller of the server classes
      (DOT's own ``AuthorizationView``), which shows no consent for authorization_details.
    * ``requested``: the validated ``authorization_details`` of the request (RFC 9396 §2, §5);
      ``validated_pairs``: the parameters they were validated for (a second pass over the same
      parameters reuses them).
    * ``details``: what the code or token being issued carries — ``requested`` narrowed to the
      user's approval (``approved``: indices, RFC 9396 §3) or to a token request's subset (§6).
    * ``resource_server`` and ``detail_types``: the API chosen and its registered types.
    * ``grant``: the :class:`~rar_provider.models.AuthorizationGrant` the code or tokens are issued
      under; ``carried``: what the code or refresh token presented at the token endpoint carries
      (the most a token request may ask for, §6, and what the new refresh token keeps).
    * ``issued_access_token``: the row recording the access token just created (the token response
      and the code's redemption are projections of it).
    * ``one_time_only``: the code carries one-time entries only (no refresh token, issue 13);
      ``code_row``: DOT's row of the code being exchanged, read once; ``refresh_row``: DOT's row of
      the refresh token presented, read with its grant in one statement, when the refresh takes
      the rotation of :mod:`rar_provider.oauth.refresh`.
    """

    pushed: bool | None = None
    requested: list[dict] = field(default_factory=list)
    validated_pairs: tuple | None = None
    details: list[dict] = field(default_factory=list)
    resource_server: Any = None
    detail_types: dict = field(default_factory=dict)
    approved: list[int] | None = None
    grant: Any = None
    carried: list[dict] | None = None
    grant_entries: list[int] | None = None
    issued_access_token: Any = None
    access_token: Any = None
    one_time_only: bool = False
    code_row: Any = None
    refresh_row: Any = None

    def record(self, details: list[dict], resource_server, detail_types=None) -> None:
        """Remember the validated (or stored) details, their API and registered types."""
        self.details = details
        self.resource_server = resource_server
        self.detail_types = detail_types or {}

    @property
    def kept(self) -> list[dict]:
        """What a refresh token keeps: what was presented, even when the access token is narrower."""
        return self.carried if self.carried is not None else self.details

    @property
    def grant_id(self) -> str:
        return self.grant.grant_id if self.grant is not None else ""

    def entries(self) -> list[int]:
        """For each entry of the access token being issued, its position in the grant (computed once).

        Computed after narrowing (RFC 9396 §6) chose the token's entries; ``[]`` without a grant.
        """
        if self.grant is None:
            return []
        if self.grant_entries is None:
            from ..grants import grant_entries
            from ..policy import detail_comparators

            self.grant_entries = grant_entries(
                self.details, self.grant.authorization_details, detail_comparators()
            )
        return self.grant_entries


def context_of(request: Any) -> RequestContext:
    """The request's context, created empty the first time (never read from a client parameter)."""
    context = vars(request).get(KEY)
    if context is None:
        context = RequestContext()
        setattr(request, KEY, context)
    return context


def existing_context(request: Any) -> RequestContext | None:
    """The request's context if our code made one, else ``None``."""
    return vars(request).get(KEY)


def through_our_endpoints(request: Any) -> bool:
    """True when rar_provider's authorization or PAR endpoint built ``request`` (``pushed`` is set)."""
    context = existing_context(request)
    return context is not None and context.pushed is not None
