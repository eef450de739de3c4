"""oauthlib Server classes with our authorization-request pipeline installed.

oauthlib's ``Server.__init__`` does not forward custom validators, and the
OpenID Connect grants are separate objects from the plain OAuth 2.0 ones, so
the pipeline is appended to the ``post_auth`` validators of every grant that
serves the authorization endpoint.

Host projects set both (DOT uses ``OIDC_SERVER_CLASS`` when OIDC is on and
``OAUTH2_SERVER_CLASS`` is unset)::

    OAUTH2_PROVIDER = {
        "OAUTH2_SERVER_CLASS": "rar_provider.oauth.server.RARServer",
        "OIDC_SERVER_CLASS": "rar_provider.oauth.server.RAROIDCServer",
        "OAUTH2_VALIDATOR_CLASS": "rar_provider.oauth.validator.RARValidator",
    }
"""

from __future__ import annotations

from oauthlib import oauth2, openid
from oauthlib.common import Request
from oauthlib.oauth2.rfc6749 import utils
from oauthlib.oauth2.rfc6749.tokens import random_token_generator

from .. import fapi
from . import pipeline, token_request
from .context import context_of
from .token_generator import AccessTokenGenerator, AccessTokenLifetime

AUTHORIZATION_GRANTS = (
    "auth_grant",
    "implicit_grant",
    "openid_connect_auth",
    "openid_connect_implicit",
    "openid_connect_hybrid",
)


#: Token-endpoint grants and the ``post_token`` checks each gets, in order.
TOKEN_GRANTS = (
    ("auth_grant", (token_request.narrow, fapi.check_token_request)),
    ("openid_connect_auth", (token_request.narrow, fapi.check_token_request)),
    ("refresh_grant", (token_request.narrow, fapi.check_token_request)),
    ("credentials_grant", (token_request.check_client_credentials, fapi.check_token_request)),
)


class RARServerMixin:
    """Installs the :mod:`.pipeline` validators on every authorization grant, the
    :mod:`.token_request` checks on the token grants, and the per-API access-token
    format (:mod:`.token_generator`)."""

    def __init__(self, request_validator, token_generator=None, refresh_token_generator=None, **kwargs):
        opaque = token_generator or random_token_generator
        kwargs["token_expires_in"] = AccessTokenLifetime(kwargs.get("token_expires_in"))
        super().__init__(
            request_validator,
            token_generator=AccessTokenGenerator(opaque),
            refresh_token_generator=refresh_token_generator or opaque,
            **kwargs,
        )
        installed: set[tuple[int, str]] = set()
        for name in AUTHORIZATION_GRANTS:
            grant = getattr(self, name, None)
            if grant is None or (id(grant.custom_validators), "auth") in installed:
                continue
            grant.custom_validators.pre_auth.append(pipeline.validate_redirect)
            grant.custom_validators.post_auth.append(pipeline.validate_authorization_request)
            installed.add((id(grant.custom_validators), "auth"))
        for name, checks in TOKEN_GRANTS:
            grant = getattr(self, name, None)
            if grant is None or (id(grant.custom_validators), "token") in installed:
                continue
            grant.custom_validators.post_token.extend(checks)
            installed.add((id(grant.custom_validators), "token"))

    def validate_authorization_request(
        self, uri, http_method="GET", body=None, headers=None, *, pushed: bool | None = None, client=None
    ):
        """As oauthlib's, plus ``pushed``: the request's parameters came from a PAR record.

        ``pushed`` is kept in the request's :class:`~.context.RequestContext`, which a client
        parameter cannot forge (see :mod:`.context`). rar_provider's endpoints
        always pass it; a caller that does not (DOT's ``AuthorizationView``) is
        refused any request carrying ``authorization_details`` or ``request_uri``
        (:func:`.pipeline.check_endpoint`). ``client``: the client the caller already authenticated
        (the PAR endpoint), whose ``client_id`` the caller checked against the request's.
        """
        request = Request(uri, http_method=http_method, body=body, headers=headers)
        request.scopes = utils.scope_to_list(request.scope)
        if pushed is not None:
            context_of(request).pushed = pushed
        if client is not None:  # already authenticated (PAR): DOT's validator does not load it again
            request.client = client
        handler = self.response_types.get(request.response_type, self.default_response_type_handler)
        return handler.validate_authorization_request(request)


class RARServer(RARServerMixin, oauth2.Server):
    """``oauthlib.oauth2.Server`` with RAR/PAR validation."""


class RAROIDCServer(RARServerMixin, openid.Server):
    """``oauthlib.openid.Server`` with RAR/PAR validation (hooks the OIDC grants too)."""
