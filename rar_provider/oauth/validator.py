"""DOT's ``OAuth2Validator`` with authorization_details kept on codes and tokens (RFC 9396 §7).

Public hooks only, by grant type: the authorization code (:mod:`.code_exchange`), the refresh token
(:mod:`.refresh`), client authentication at every endpoint (:mod:`.client_authentication`), and
here what every token request shares — the access and refresh tokens issued under the request's
grant, and the token response as a projection of what the access token carries. DOT's private
methods we override are listed in :mod:`.seams`, with tests that pin their signatures.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.settings import oauth2_settings
from oauthlib.oauth2.rfc6749 import errors as oauthlib_errors

from .. import fapi
from ..dpop import binding as dpop
from ..grants import lifecycle
from ..models import AccessTokenFormat, IssuedAccessToken, IssuedRefreshToken, sha256_hex
from ..pkce import required_for_public_clients
from .client_authentication import ClientAuthenticationMixin
from .code_exchange import CODE_REPLAYED, GRANT_ENDED, CodeExchangeMixin, ReplayFound, revoke_redeemed
from .context import context_of
from .refresh import REFRESH_REPLAYED, RefreshMixin, revoke_replayed_refresh_token

__all__ = [
    "CODE_REPLAYED",
    "GRANT_ENDED",
    "REFRESH_REPLAYED",
    "RARValidator",
    "revoke_redeemed",
    "revoke_replayed_refresh_token",
]

#: The header key (in the Django request's META, copied into oauthlib's headers) under which the token
#: endpoint collects the access token row this request created, so it need not be read again.
ISSUED = "rar_provider.issued"


class IssuedTokens:
    """Where the validator leaves the access token row it created for the token view.

    Not a dict: oauthlib copies dict and list header values, and this must stay the same object.
    """

    access_token = None


class RARValidator(ClientAuthenticationMixin, CodeExchangeMixin, RefreshMixin, OAuth2Validator):
    """DOT's validator with grants, authorization_details and their projections (RFC 9396 §7), and
    client authentication by the client's registered method (:mod:`.client_authentication`)."""

    def is_pkce_required(self, client_id, request):
        """RFC 7636 / RFC 9700 §2.1.1: DOT's ``PKCE_REQUIRED``; our policy
        (:func:`rar_provider.pkce.required_for_public_clients`) reads the client already loaded."""
        client = getattr(request, "client", None)
        if (
            oauth2_settings.PKCE_REQUIRED is required_for_public_clients
            and getattr(client, "client_id", None) == client_id
        ):
            return client.client_type != client.CLIENT_CONFIDENTIAL
        return super().is_pkce_required(client_id, request)

    def validate_bearer_token(self, token, scopes, request):
        """RFC 9449 §7.2: DOT's resource protection (its views, its DRF class, userinfo) knows only the
        Bearer scheme, so a DPoP-bound token is refused there (``rar_provider.drf`` checks its proof)."""
        valid = super().validate_bearer_token(token, scopes, request)
        issued = getattr(getattr(request, "access_token", None), "rar_issued", None) if valid else None
        if getattr(issued, "dpop_jkt", ""):
            request.oauth2_error = {
                "error": "invalid_token",
                "error_description": "The access token is DPoP-bound: it cannot be used as a bearer token.",
            }
            return False
        return valid

    def get_default_scopes(self, client_id, request, *args, **kwargs):
        """RFC 9396 §3: a request may carry authorization_details and no scope: no default scope then."""
        if getattr(request, "authorization_details", None):
            return []
        return super().get_default_scopes(client_id, request, *args, **kwargs)

    def _validate_resource_uris(self, request, resources):
        """RFC 8707 §2: a resource is an absolute URI without a fragment; URNs included.

        DOT also requires a host, which would refuse API identifiers such as
        ``urn:example:payments`` (the reference docs' style of audience).
        """
        for resource in resources:
            parts = urlsplit(resource) if isinstance(resource, str) else None
            if parts is None or not parts.scheme or parts.fragment or not (parts.netloc or parts.path):
                raise oauthlib_errors.CustomOAuth2Error(
                    error="invalid_target",
                    description=f"resource {resource!r} is not an absolute URI without a fragment "
                    "(RFC 8707 §2).",
                    request=request,
                )

    def rotate_refresh_token(self, request):
        """RFC 6749 §6: rotate refresh tokens (RFC 9700 §4.14.2) — except under the FAPI 2.0 profile
        (§5.3.2.1 clause 9, :mod:`rar_provider.fapi`): a refresh token bound by private_key_jwt and
        DPoP stays, so a client that lost a response can retry with it."""
        if not fapi.rotates_refresh_tokens(context_of(request).resource_server):
            return False
        return super().rotate_refresh_token(request)

    def _create_access_token(self, expires, request, token, source_refresh_token=None):
        """The access token and what it carries: its grant's details, or the subset asked for (§6)."""
        access_token = super()._create_access_token(expires, request, token, source_refresh_token)
        context = context_of(request)
        jkt = dpop.bound_key(request)
        if context.grant is not None or context.details or context.resource_server is not None or jkt:
            context.issued_access_token = IssuedAccessToken.objects.create(
                access_token=access_token,
                grant=context.grant,
                resource_server=context.resource_server,
                authorization_details=context.details,
                grant_entries=context.entries(),
                dpop_jkt=jkt,
            )
        if context.grant is not None and request.grant_type == "authorization_code":
            lifecycle.redeemed(context.grant)
        context.access_token = access_token
        sink = (getattr(request, "headers", None) or {}).get(ISSUED)
        if isinstance(sink, IssuedTokens):
            sink.access_token = access_token
        return access_token

    def _create_refresh_token(self, request, refresh_token_code, access_token, previous_refresh_token):
        """A refresh token keeps what was presented (its code's or refresh token's details), even
        when the access token issued with it is narrower (RFC 9396 §6)."""
        refresh_token = super()._create_refresh_token(
            request, refresh_token_code, access_token, previous_refresh_token
        )
        context = context_of(request)
        if context.grant is not None:
            IssuedRefreshToken.objects.create(
                refresh_token=refresh_token,
                grant=context.grant,
                authorization_details=context.kept,
                dpop_jkt=dpop.bound_key(request),
            )
        return refresh_token

    def save_bearer_token(self, token, request, *args, **kwargs):
        """DOT's: :meth:`_save_bearer_token` in a savepoint. A replay found inside it (a code
        exchanged twice at once, a refresh token rotated by a concurrent request) is revoked after
        the savepoint rolled back, so the revocation commits with the ``invalid_grant`` answer
        (RFC 6749 §4.1.2, RFC 9700 §4.14.2)."""
        try:
            return super().save_bearer_token(token, request, *args, **kwargs)
        except ReplayFound as replay:
            replay.revoke()
            raise oauthlib_errors.InvalidGrantError(description=replay.description, request=request) from None

    def _save_bearer_token(self, token, request, *args, **kwargs):
        """RFC 9396 §7: the token response carries the access token's authorization_details.

        They are read from the row that records what the token carries, so the response describes
        the token issued, whatever else runs at the same time. For an API whose tokens are
        encrypted (JWE), the response keeps only each entry's ``type``: the details travel inside
        the token, readable by the API only. A grant of one-time entries only
        (:func:`rar_provider.grants.only_one_time_entries`) gets no refresh token: it could only
        mint tokens for what was already executed.

        RFC 9449 §5: with a DPoP proof the token type is ``DPoP``; a refresh token that could not
        record its key (no grant: a code of DOT's own view) is not issued rather than left unbound.
        """
        context = context_of(request)
        bound = bool(dpop.bound_key(request))
        if "refresh_token" in token and (context.one_time_only or (bound and context.grant is None)):
            del token["refresh_token"]
        if bound:
            token["token_type"] = "DPoP"
        if not self.rotate(token, request):
            super()._save_bearer_token(token, request, *args, **kwargs)
        if (
            context.issued_access_token is None
            and context.grant is not None
            and request.grant_type == "refresh_token"
        ):
            self._record_reused_access_token(request, token, context)
        issued = context.issued_access_token
        details = issued.authorization_details if issued is not None else []
        if details:
            resource_server = context.resource_server
            if resource_server is not None and resource_server.access_token_format == AccessTokenFormat.JWE:
                token["authorization_details"] = [{"type": detail["type"]} for detail in details]
            else:
                token["authorization_details"] = details
        if not token.get("scope"):
            # RFC 6749 §5.1: scope is optional; an empty one (details only) says nothing.
            token.pop("scope", None)
        if request.grant_type == "authorization_code":
            self._remember_redemption(request, token)

    def _record_reused_access_token(self, request, token, context) -> None:
        """Without rotation DOT gives the refresh token's access token row a new value in place
        (no ``_create_access_token``): record what that token now carries. Within DOT's
        ``REFRESH_TOKEN_GRACE_PERIOD_SECONDS`` a retried refresh is answered with the access token
        already issued: the response describes that one (RFC 9396 §7)."""
        instance = getattr(request, "refresh_token_instance", None)
        access_token = getattr(instance, "access_token", None)
        if access_token is None:
            context.issued_access_token = (
                IssuedAccessToken.objects.filter(
                    access_token__token_checksum=sha256_hex(token["access_token"])
                )
                .select_related("access_token")
                .first()
            )
            if context.issued_access_token is not None:
                context.access_token = context.issued_access_token.access_token
            return
        context.issued_access_token, _ = IssuedAccessToken.objects.update_or_create(
            access_token=access_token,
            defaults={
                "grant": context.grant,
                "resource_server": context.resource_server,
                "authorization_details": context.details,
                "grant_entries": context.entries(),
                "dpop_jkt": dpop.bound_key(request),
            },
        )
        context.access_token = access_token
