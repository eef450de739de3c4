"""Client authentication shared by the back-channel endpoints (RFC 6749 §2.3, §3.2.1).

The PAR and introspection endpoints authenticate a client exactly as the token
endpoint does, through the configured validator's ``client_authentication_required``
and ``authenticate_client`` (:mod:`rar_provider.oauth.client_authentication`): HTTP
Basic, ``client_secret`` in the body, or a ``private_key_jwt`` client assertion
(RFC 7523), as the client's policy allows.
"""

from __future__ import annotations

from oauth2_provider.oauth2_backends import OAuthLibCore
from oauthlib.common import Request as OAuthlibRequest
from oauthlib.common import urlencode
from oauthlib.oauth2.rfc6749 import errors as oauthlib_errors

from ..oauth.client_authentication import assertion_sent
from .oauth import oauth_error_response


class EndpointError(Exception):
    """An RFC 6749 §5.2 error answered as JSON (401s name the Basic scheme)."""

    def __init__(self, error: str, description: str, status: int = 400):
        super().__init__(description)
        self.error, self.description, self.status = error, description, status

    def response(self):
        headers = {}
        if self.status == 401:
            # RFC 6749 §5.2 / RFC 9110 §15.5.2: a 401 names the scheme to use.
            headers["WWW-Authenticate"] = f'Basic realm="oauth", error="{self.error}"'
        return oauth_error_response(self.error, self.description, self.status, headers)


def oauthlib_request(request, server) -> OAuthlibRequest:
    core = OAuthLibCore(server)
    uri, method, _body, headers = core._extract_params(request)
    return OAuthlibRequest(uri, method, urlencode(core.extract_body(request)), headers)


def authenticate_client(request, server, *, confidential_only: bool = False):
    """The authenticated client, or ``EndpointError`` (``invalid_client``, 401).

    A public client only identifies itself (RFC 6749 §2.1); ``confidential_only``
    refuses it.
    """
    oauth_request = oauthlib_request(request, server)
    validator = server.request_validator
    if (
        not validator._extract_basic_auth(oauth_request)
        and not oauth_request.client_id
        and not assertion_sent(oauth_request)
    ):
        raise EndpointError("invalid_client", "Client authentication is required.", 401)
    if validator.client_authentication_required(oauth_request):
        try:
            authenticated = validator.authenticate_client(oauth_request)
        except oauthlib_errors.InvalidClientError as error:
            raise EndpointError("invalid_client", error.description, 401) from None
        if not authenticated:
            raise EndpointError("invalid_client", "Client authentication failed.", 401)
        if confidential_only and oauth_request.client.client_type != "confidential":
            # DOT lets a public client "authenticate" with Basic and an empty secret.
            raise EndpointError("invalid_client", "Only a confidential client may call this endpoint.", 401)
    elif confidential_only:
        raise EndpointError(
            "invalid_client", "Only a client that authenticates with a secret may call this endpoint.", 401
        )
    elif not validator.authenticate_client_id(oauth_request.client_id, oauth_request):
        raise EndpointError("invalid_client", "Client authentication failed.", 401)
    return oauth_request.client
