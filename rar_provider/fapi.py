"""FAPI 2.0 Security Profile mode: one switch that makes the server refuse what the profile forbids.

Turned on for every request with ``RAR_PROVIDER["FAPI_2_0"] = True``, or per API with the API's
*FAPI 2.0 Security Profile* flag in admin (``ResourceServer.fapi_2_0``): the requests and tokens of
that API. Where the profile applies (clauses of the FAPI 2.0 Security Profile, final):

* §5.3.2.2 cl. 3: authorization requests must come through PAR (RFC 9126);
* §5.3.2.1 cl. 3 and 6: the client is confidential and authenticates with ``private_key_jwt``;
* §5.3.2.2 cl. 5: PKCE with ``S256``;
* §5.3.2.2 cl. 8: redirect URIs are ``https``, or ``http`` on a loopback IP literal (RFC 8252 §7.3);
* §5.3.2.1 cl. 4–5: access tokens are sender-constrained: a token request without a DPoP proof
  (RFC 9449) is refused with ``invalid_dpop_proof``;
* §5.3.2.1 cl. 9: refresh tokens are not rotated (a retried refresh with the same token works);
  they are bound by client authentication and DPoP.

What is configuration rather than a request — code lifetime ≤ 60 s, request_uri lifetime < 600 s,
algorithms PS256/ES256/EdDSA, key sizes, each registered client — is checked by the system checks
of :mod:`rar_provider.checks.fapi`, which name the clause. ``docs/fapi.md`` maps every
authorization-server requirement of the profile to its setting and test.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from oauthlib.oauth2.rfc6749 import errors as oauthlib_errors

from .conf import rar_settings

#: FAPI 2.0 Security Profile §5.4 cl. 1.2: the only JWS algorithms.
FAPI_ALGS = ("PS256", "ES256", "EdDSA")
PROFILE = "FAPI 2.0 Security Profile"


def clause(section: str, number: int | None = None) -> str:
    """``"FAPI 2.0 Security Profile §5.3.2.1 clause 11"``: how every refusal names its rule."""
    return f"{PROFILE} §{section}" + (f" clause {number}" if number else "")


def applies(resource_server=None) -> bool:
    """Does the profile apply to a request or token of ``resource_server`` (``None``: unknown API)?"""
    return bool(rar_settings.FAPI_2_0) or bool(getattr(resource_server, "fapi_2_0", False))


def redirect_uri_allowed(uri: str) -> bool:
    """§5.3.2.2 cl. 8: ``https``, or ``http`` only on a loopback IP literal (RFC 8252 §7.3)."""
    parts = urlsplit(uri or "")
    if parts.scheme == "https":
        return True
    if parts.scheme != "http" or not parts.hostname:
        return False
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


def uses_private_key_jwt(client) -> bool:
    """§5.3.2.1 cl. 3, 6: a confidential client registered for ``private_key_jwt``."""
    from .models.clients import TokenEndpointAuthMethod
    from .oauth.client_authentication import registered_method

    confidential = getattr(client, "client_type", None) == getattr(
        client, "CLIENT_CONFIDENTIAL", "confidential"
    )
    return confidential and registered_method(client) == TokenEndpointAuthMethod.PRIVATE_KEY_JWT


def check_authorization_request(request) -> None:
    """The pipeline step (after the API is chosen): PAR, the client, PKCE S256, the redirect URI.

    Raises ``invalid_request`` or ``unauthorized_client`` naming the clause.
    """
    from .oauth.context import context_of

    context = context_of(request)
    if not applies(context.resource_server):
        return
    if not context.pushed:
        raise oauthlib_errors.InvalidRequestError(
            description=f"Push this request to the PAR endpoint first ({clause('5.3.2.2', 3)}).",
            request=request,
        )
    if not uses_private_key_jwt(request.client):
        raise oauthlib_errors.UnauthorizedClientError(
            description="This client must be confidential and authenticate with private_key_jwt "
            f"({clause('5.3.2.1', 6)}).",
            request=request,
        )
    if (
        getattr(request, "code_challenge", None) is None
        or getattr(request, "code_challenge_method", None) != "S256"
    ):
        raise oauthlib_errors.InvalidRequestError(
            description=f"PKCE with code_challenge_method S256 is required ({clause('5.3.2.2', 5)}).",
            request=request,
        )
    if not redirect_uri_allowed(getattr(request, "redirect_uri", "") or ""):
        raise oauthlib_errors.InvalidRequestError(
            description=f"redirect_uri must use https (http only on a loopback IP) ({clause('5.3.2.2', 8)}).",
            request=request,
        )


def check_token_request(request) -> None:
    """A ``post_token`` check: the client uses ``private_key_jwt`` and the request carries a DPoP proof.

    Runs after the code, refresh token or client credentials request told which API the tokens
    are for. Raises ``invalid_client`` or ``invalid_dpop_proof`` naming the clause.
    """
    from .dpop import binding
    from .oauth.context import context_of

    if not applies(context_of(request).resource_server):
        return
    if not uses_private_key_jwt(request.client):
        raise oauthlib_errors.InvalidClientError(
            description=f"This client must authenticate with private_key_jwt ({clause('5.3.2.1', 6)}).",
            request=request,
        )
    if binding.proof_of(request) is None:
        raise oauthlib_errors.CustomOAuth2Error(
            error="invalid_dpop_proof",
            description="Access tokens here are sender-constrained: send a DPoP proof (RFC 9449) "
            f"({clause('5.3.2.1', 4)}).",
            request=request,
        )


def rotates_refresh_tokens(resource_server) -> bool:
    """§5.3.2.1 cl. 9: no refresh token rotation where the profile applies."""
    return not applies(resource_server)
