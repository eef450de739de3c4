"""DOT's ``OAuth2Validator`` with authorization_details kept on codes and tokens.

A few hooks only; everything else is DOT's (RFC 9396 §7: the granted details
travel from the authorization code to the tokens and the token response).
"""

from __future__ import annotations

from oauth2_provider.oauth2_validators import OAuth2Validator

from .. import consents
from ..models import AccessTokenDetails, CodeDetails, RefreshTokenDetails
from . import trusted


def _granted(request) -> tuple[list[dict], object]:
    return trusted.trusted(request, trusted.DETAILS) or [], trusted.trusted(request, trusted.RESOURCE_SERVER)


class RARValidator(OAuth2Validator):
    def get_default_scopes(self, client_id, request, *args, **kwargs):
        """RFC 9396 §3: a request may carry authorization_details and no scope: no default scope then."""
        if getattr(request, "authorization_details", None):
            return []
        return super().get_default_scopes(client_id, request, *args, **kwargs)

    def _create_authorization_code(self, request, code, expires=None):
        grant = super()._create_authorization_code(request, code, expires)
        consents.link_code(request, grant)
        details, resource_server = _granted(request)
        if details:
            CodeDetails.objects.create(
                grant=grant, resource_server=resource_server, authorization_details=details
            )
        return grant

    def validate_code(self, client_id, code, client, request, *args, **kwargs):
        valid = super().validate_code(client_id, code, client, request, *args, **kwargs)
        if valid:
            consents.remember_consent_of_code(request, code, client)
            stored = (
                CodeDetails.objects.select_related("resource_server")
                .filter(grant__code=code, grant__application=client)
                .first()
            )
            if stored is not None:
                trusted.record_details(request, stored.authorization_details, stored.resource_server)
        return valid

    def validate_refresh_token(self, refresh_token, client, request, *args, **kwargs):
        valid = super().validate_refresh_token(refresh_token, client, request, *args, **kwargs)
        instance = getattr(request, "refresh_token_instance", None)
        if valid and instance is not None:
            consents.remember_consent_of_refresh_token(request, instance)
            stored = (
                RefreshTokenDetails.objects.select_related("resource_server")
                .filter(refresh_token=instance)
                .first()
            )
            if stored is not None:
                trusted.record_details(request, stored.authorization_details, stored.resource_server)
        return valid

    def _create_access_token(self, expires, request, token, source_refresh_token=None):
        access_token = super()._create_access_token(expires, request, token, source_refresh_token)
        consents.link_token(request, access_token=access_token)
        details, resource_server = _granted(request)
        if details:
            AccessTokenDetails.objects.create(
                access_token=access_token, resource_server=resource_server, authorization_details=details
            )
        return access_token

    def _create_refresh_token(self, request, refresh_token_code, access_token, previous_refresh_token):
        refresh_token = super()._create_refresh_token(
            request, refresh_token_code, access_token, previous_refresh_token
        )
        consents.link_token(request, refresh_token=refresh_token)
        details, resource_server = _granted(request)
        if details:
            RefreshTokenDetails.objects.create(
                refresh_token=refresh_token, resource_server=resource_server, authorization_details=details
            )
        return refresh_token

    def _save_bearer_token(self, token, request, *args, **kwargs):
        """RFC 9396 §7: the token response carries the granted authorization_details."""
        super()._save_bearer_token(token, request, *args, **kwargs)
        details, _ = _granted(request)
        if details:
            token["authorization_details"] = details
        if not token.get("scope"):
            # RFC 6749 §5.1: scope is optional; an empty one (details only) says nothing.
            token.pop("scope", None)
