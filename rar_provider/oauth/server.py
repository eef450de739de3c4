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

from . import pipeline, trusted

AUTHORIZATION_GRANTS = (
    "auth_grant",
    "implicit_grant",
    "openid_connect_auth",
    "openid_connect_implicit",
    "openid_connect_hybrid",
)


class RARServerMixin:
    """Installs the :mod:`.pipeline` validators on every authorization grant."""

    def __init__(self, request_validator, *args, **kwargs):
        super().__init__(request_validator, *args, **kwargs)
        installed: list[int] = []
        for name in AUTHORIZATION_GRANTS:
            grant = getattr(self, name, None)
            if grant is None:
                continue
            validators = grant.custom_validators
            if id(validators) in installed:
                continue
            validators.pre_auth.append(pipeline.validate_redirect)
            validators.post_auth.append(pipeline.validate_authorization_request)
            installed.append(id(validators))

    def validate_authorization_request(
        self, uri, http_method="GET", body=None, headers=None, *, pushed: bool = False
    ):
        """As oauthlib's, plus ``pushed``: the request's parameters came from a PAR record.

        ``pushed`` is set as an instance attribute, which a client parameter of
        the same name cannot forge (see :mod:`.trusted`).
        """
        request = Request(uri, http_method=http_method, body=body, headers=headers)
        request.scopes = utils.scope_to_list(request.scope)
        setattr(request, trusted.PUSHED, pushed)
        handler = self.response_types.get(request.response_type, self.default_response_type_handler)
        return handler.validate_authorization_request(request)


class RARServer(RARServerMixin, oauth2.Server):
    """``oauthlib.oauth2.Server`` with RAR/PAR validation."""


class RAROIDCServer(RARServerMixin, openid.Server):
    """``oauthlib.openid.Server`` with RAR/PAR validation (hooks the OIDC grants too)."""
