"""OAuth errors raised by rar_provider.

Every error a client can cause carries a standard OAuth ``error`` code and a
plain-English ``error_description`` naming what was wrong (RFC 6749 §5.2,
RFC 9126 §2.3, RFC 9396 §5).

They subclass oauthlib's ``OAuth2Error`` so that, raised from inside an
oauthlib validator, they travel the same way as oauthlib's own errors: a
redirect to the client for normal errors at the authorization endpoint, a
JSON body at the PAR and token endpoints.
"""

from __future__ import annotations

from oauthlib.oauth2.rfc6749 import errors as oauthlib_errors


class InvalidAuthorizationDetailsError(oauthlib_errors.OAuth2Error):
    """RFC 9396 §5: ``authorization_details`` is malformed, unknown or not allowed."""

    error = "invalid_authorization_details"
    status_code = 400


class InvalidRequestUriError(oauthlib_errors.OAuth2Error):
    """RFC 9101 §7 / RFC 9126 §4: the ``request_uri`` is unknown, expired or used."""

    error = "invalid_request_uri"
    status_code = 400


class InvalidRequestError(oauthlib_errors.InvalidRequestError):
    """RFC 6749 §4.1.2.1 / §5.2 ``invalid_request`` with our description."""


class InvalidTargetError(oauthlib_errors.OAuth2Error):
    """RFC 8707 §2: the requested resource / audience is unknown."""

    error = "invalid_target"
    status_code = 400


class AuthorizationDetailsProblem(ValueError):
    """A problem found by the pure ``rar_provider.details`` checks.

    Pure code raises this (no oauthlib, no HTTP); the OAuth seam turns it into
    :class:`InvalidAuthorizationDetailsError` (or ``invalid_request`` where
    :attr:`error` says so). ``description`` is the text the client receives.
    """

    def __init__(self, description: str, *, error: str = "invalid_authorization_details"):
        super().__init__(description)
        self.description = description
        self.error = error


#: oauthlib errors whose own descriptions do not name the parameter at fault.
_PARAMETER_OF = (
    (
        (
            oauthlib_errors.InvalidRedirectURIError,
            oauthlib_errors.MismatchingRedirectURIError,
            oauthlib_errors.MissingRedirectURIError,
        ),
        "redirect_uri",
    ),
    ((oauthlib_errors.InvalidClientIdError, oauthlib_errors.MissingClientIdError), "client_id"),
    ((oauthlib_errors.MissingResponseTypeError,), "response_type"),
    ((oauthlib_errors.MissingCodeVerifierError,), "code_verifier"),
)


def describe(error: oauthlib_errors.OAuth2Error) -> str:
    """A description naming what was wrong, for oauthlib errors that come without one
    (or whose description does not name the parameter)."""
    if error.description:
        for classes, parameter in _PARAMETER_OF:
            if isinstance(error, classes) and parameter not in error.description:
                return f"{parameter}: {error.description}"
        return error.description
    response_type = getattr(error, "response_type", None)
    scopes = " ".join(getattr(error, "scopes", None) or [])
    return default_description(error.error, response_type=response_type, scopes=scopes)


def default_description(error: str, *, response_type: str | None = None, scopes: str = "") -> str:
    """The description given to an ``error`` code that arrived without one (RFC 6749 §5.2)."""
    fallback = {
        "unauthorized_client": f"This client may not use response_type={response_type!r}.",
        "unsupported_response_type": f"response_type {response_type!r} is not supported; use 'code'.",
        "invalid_scope": f"scope {scopes!r} includes values this server does not offer or this client may "
        "not request.",
        "invalid_client": "Client authentication failed.",
        "invalid_grant": "The authorization code or refresh token is invalid, expired, used, or was issued "
        "to another client.",
        "access_denied": "The request was denied.",
        "server_error": "The server could not complete the request.",
    }
    return fallback.get(error, error.replace("_", " ").capitalize() + ".")
