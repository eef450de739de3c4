"""Reading an authorization request: from the query, or from a pushed request (RFC 9126 §4)."""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.conf import settings
from oauthlib.oauth2.rfc6749 import errors as oauthlib_errors

from .. import form, par
from ..conf import rar_settings
from ..models import PushedAuthorizationRequest, hash_reference
from ..parameters import AUTHORIZE

ACTIVATED_SESSION_KEY = "rar_provider.activated_requests"


class PageError(Exception):
    """An error shown on a 400 page: there is no safe redirect URI (RFC 6749 §4.1.2.1)."""

    def __init__(self, error: str, description: str, status: int = 400):
        super().__init__(description)
        self.error, self.description, self.status = error, description, status


class RedirectError(Exception):
    """A normal OAuth error raised while validating: redirect it to the client."""

    def __init__(self, error: oauthlib_errors.OAuth2Error):
        super().__init__(error.description)
        self.error = error


@dataclass
class AuthorizationRequest:
    """The parameters that count for this request, and where they came from.

    ``record``: the pushed request (RFC 9126) they came from; ``pending_error``: an error to send
    once the client is known (a used or expired request_uri); ``back``: where the consent page was
    shown (a step-up comes back there); ``grant``: the pending grant the consent page decides.
    """

    pairs: list[tuple[str, str]]
    record: PushedAuthorizationRequest | None = None
    pending_error: oauthlib_errors.OAuth2Error | None = None
    back: str | None = None
    grant: int | None = None

    @property
    def pushed(self) -> bool:
        return self.record is not None

    @property
    def prompts(self) -> list[str]:
        """OIDC Core §3.1.2.1 ``prompt`` values (``none``, ``consent`` …) of the request."""
        return dict(self.pairs).get("prompt", "").split()


def read_query(request) -> AuthorizationRequest:
    """RFC 9126 §4: with request_uri only the pushed parameters count (PAR-13).

    The query is read strictly first (:func:`rar_provider.form.parse_form`: UTF-8, no NUL); a query
    that cannot be read is a 400 page (:class:`PageError`). Repeated parameters of a front-channel
    request are refused by the pipeline (redirected once client and redirect URI are known good).
    """
    try:
        pairs = form.parse_form(
            request.META.get("QUERY_STRING", ""),
            max_fields=settings.DATA_UPLOAD_MAX_NUMBER_FIELDS,
            check_repeats=False,
        )
        query = dict(pairs)
        request_uri = query.get("request_uri")
        if request_uri is not None:
            form.check_repeated(pairs, AUTHORIZE.repeatable)
    except form.RequestProblem as problem:
        raise PageError(problem.error, problem.description) from problem
    if request_uri is None:
        return AuthorizationRequest(pairs=pairs)
    try:
        resolution = par.resolve(
            request_uri, query.get("client_id"), activated=is_activated(request, request_uri)
        )
    except par.RequestUriNotFound as error:
        raise PageError("invalid_request_uri", error.description) from error
    record = resolution.record
    return AuthorizationRequest(
        pairs=[tuple(pair) for pair in record.parameters], record=record, pending_error=resolution.error
    )


# A pushed request opened before it expired stays usable by this browser while the
# user logs in and reads the consent page (RFC 9126 §4 leaves this to the server).
def is_activated(request, request_uri: str) -> bool:
    """Did this browser open ``request_uri`` before it expired (within ``CONSENT_MAX_AGE``)?"""
    deadline = request.session.get(ACTIVATED_SESSION_KEY, {}).get(hash_reference(request_uri))
    return bool(deadline and deadline > time.time())


def remember_activation(request, record: PushedAuthorizationRequest) -> None:
    """Remember in the session that this browser opened the pushed request ``record``."""
    now = time.time()
    activated = {
        key: deadline
        for key, deadline in request.session.get(ACTIVATED_SESSION_KEY, {}).items()
        if deadline > now
    }
    activated.setdefault(record.reference_hash, now + rar_settings.CONSENT_MAX_AGE)
    request.session[ACTIVATED_SESSION_KEY] = activated


def used_error() -> oauthlib_errors.OAuth2Error:
    """RFC 9126 §4: a request_uri is used once."""
    from ..errors import InvalidRequestUriError

    return InvalidRequestUriError(description="request_uri has already been used.")
