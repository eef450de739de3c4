"""Checks on token requests: narrowing (RFC 9396 §6) and client credentials (RFC 9396 §6.2).

Installed by ``RARServerMixin`` as oauthlib ``post_token`` validators, which
run after the client is authenticated and the code or refresh token is
loaded (so the grant's details are on the request).
"""

from __future__ import annotations

from ..conf import rar_settings
from ..details import parse_authorization_details, uncovered_index
from ..errors import AuthorizationDetailsProblem, InvalidAuthorizationDetailsError
from ..policy import detail_comparators
from . import pipeline
from .context import context_of


def narrow(request) -> None:
    """RFC 9396 §6.1 / §6.3: a token or refresh request may ask for a subset of the grant.

    The access token then carries only the requested entries; the grant (and what the refresh
    token carries) stay whole. A detail that is not covered
    by a granted one is refused with ``invalid_authorization_details``.
    """
    raw = getattr(request, "authorization_details", None)
    if raw is None:
        return
    context = context_of(request)
    granted = context.kept
    try:
        requested = parse_authorization_details(raw, rar_settings.limits)
        if not requested:
            return
        if not granted:
            raise AuthorizationDetailsProblem("this grant carries no authorization_details to narrow")
        index = uncovered_index(requested, granted, detail_comparators())
        if index is not None:
            raise AuthorizationDetailsProblem(
                f"authorization_details[{index}] asks for more than was granted "
                f"(type {requested[index].get('type')!r}), or for a granted entry already asked for: "
                "a token request may only narrow the grant, each granted entry once"
            )
    except AuthorizationDetailsProblem as problem:
        raise InvalidAuthorizationDetailsError(description=problem.description, request=request) from problem
    context.carried = granted
    context.details = requested


def check_client_credentials(request) -> None:
    """RFC 9396 §6.2: client credentials may carry authorization_details, checked against the
    API's client access policy (the client acts for itself)."""
    pipeline.check_single_valued(request)
    pipeline.check_details_request(request, on_behalf_of_user=False)
