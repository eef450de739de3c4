"""DOT's ``OAuth2Validator`` with authorization_details kept on codes and tokens.

A few hooks only; everything else is DOT's (RFC 9396 §7: the granted details
travel from the authorization code to the tokens and the token response).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.db import IntegrityError, transaction
from django.utils import timezone
from oauth2_provider.models import get_refresh_token_model
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauthlib.oauth2.rfc6749 import errors as oauthlib_errors

from .. import signals
from ..grants import lifecycle, only_one_time_entries
from ..models import (
    AccessTokenFormat,
    CodeRedemption,
    IssuedAccessToken,
    IssuedCode,
    IssuedRefreshToken,
    sha256_hex,
)
from .context import context_of

CODE_REPLAYED = "This authorization code was already used; the tokens issued with it are revoked."
REFRESH_REPLAYED = (
    "This refresh token was already used or revoked; every token issued from the same grant is revoked."
)
GRANT_ENDED = "The authorization behind this {what} was revoked or has ended."


def revoke_replayed_refresh_token(refresh_token: str, client) -> bool:
    """RFC 9700 §4.14.2: a rotated (or revoked) refresh token sent again revokes its whole grant.

    DOT does this only with ``REFRESH_TOKEN_REUSE_PROTECTION`` (off by default), for the token's
    family; here it always holds, for everything issued under the token's grant (its family too).
    Returns whether ``refresh_token`` was such a token of ``client``.
    """
    replayed = (
        get_refresh_token_model()
        .objects.filter(token_checksum=sha256_hex(refresh_token), application=client, revoked__isnull=False)
        .only("pk", "token_family")
        .first()
    )
    if replayed is None:
        return False
    get_refresh_token_model().revoke_family(replayed.token_family)
    issued = IssuedRefreshToken.objects.filter(refresh_token=replayed).select_related("grant").first()
    if issued is not None:
        lifecycle.revoke(issued.grant, announce=False)
    return True


def revoke_redeemed(redemption: CodeRedemption) -> None:
    """RFC 6749 §4.1.2: revoke every token issued from a code that is used again (its whole grant)."""
    if redemption.grant is not None:
        lifecycle.revoke(redemption.grant, announce=False)
    if redemption.token_family:
        get_refresh_token_model().revoke_family(redemption.token_family)
    if redemption.access_token is not None:
        redemption.access_token.revoke()
    CodeRedemption.objects.filter(pk=redemption.pk).update(replayed_at=timezone.now(), access_token=None)
    signals.code_replayed.send(sender=CodeRedemption, redemption=redemption)


class RARValidator(OAuth2Validator):
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

    def _create_authorization_code(self, request, code, expires=None):
        """RFC 6749 §4.1.2: the code is issued under the request's grant (``approved`` → ``code_issued``)."""
        code_row = super()._create_authorization_code(request, code, expires)
        grant = context_of(request).grant
        if grant is not None:
            IssuedCode.objects.create(
                code=code_row, grant=grant, authorization_details=context_of(request).details
            )
            lifecycle.code_issued(grant)
        return code_row

    def validate_code(self, client_id, code, client, request, *args, **kwargs):
        """RFC 6749 §4.1.3 / §10.5: the code is valid, its grant still usable, and the code is used
        once even by concurrent exchanges.

        Inside the token endpoint's transaction the code's grant is locked first, then the code
        (:func:`rar_provider.grants.lifecycle.lock_for_code`): a second exchange of the same code
        waits for the first to commit, then finds the code gone and its redemption recorded, so it
        revokes the grant (RFC 6749 §4.1.2) and gets ``invalid_grant`` — never a half-read code
        (``Grant.DoesNotExist``, a 500). A grant revoked meanwhile is ``invalid_grant`` too.
        """
        grant = lifecycle.lock_for_code(code, client)
        valid = super().validate_code(client_id, code, client, request, *args, **kwargs)
        if valid:
            if grant is not None:
                if not grant.is_usable:
                    raise oauthlib_errors.InvalidGrantError(
                        description=GRANT_ENDED.format(what="code"), request=request
                    )
                carried = (
                    IssuedCode.objects.filter(code__code=code, code__application=client)
                    .values_list("authorization_details", flat=True)
                    .first()
                )
                context = context_of(request)
                context.grant, context.carried = grant, carried or []
                context.record(context.carried, grant.resource_server)
            return True
        redemption = (
            CodeRedemption.objects.select_related("access_token", "grant")
            .filter(code_hash=sha256_hex(code), application=client)
            .first()
        )
        if redemption is not None:
            revoke_redeemed(redemption)
            raise oauthlib_errors.InvalidGrantError(
                description=CODE_REPLAYED,
                request=request,
            )
        return False

    def get_code_challenge(self, code, request):
        """RFC 9700 §4.8.2 (PKCE downgrade): a ``code_verifier`` is accepted only if the
        authorization request had a ``code_challenge``; otherwise ``invalid_grant``."""
        challenge = super().get_code_challenge(code, request)
        if challenge is None and getattr(request, "code_verifier", None) is not None:
            raise oauthlib_errors.InvalidGrantError(
                description="code_verifier was sent, but the authorization request had no code_challenge "
                "(RFC 9700 §4.8.2).",
                request=request,
            )
        return challenge

    def confirm_redirect_uri(self, client_id, code, redirect_uri, client, request, *args, **kwargs):
        """RFC 6749 §5.2: a ``redirect_uri`` that differs from the authorization request's is
        ``invalid_grant`` (oauthlib would answer ``invalid_request``)."""
        if super().confirm_redirect_uri(client_id, code, redirect_uri, client, request, *args, **kwargs):
            return True
        raise oauthlib_errors.InvalidGrantError(
            description="redirect_uri does not match the one in the authorization request (RFC 6749 §4.1.3).",
            request=request,
        )

    def validate_refresh_token(self, refresh_token, client, request, *args, **kwargs):
        """RFC 6749 §6: the refresh token is valid and its grant usable — read under lock, so a
        concurrent revocation of the grant either comes first and is seen, or waits and then also
        revokes what this refresh issues (:func:`rar_provider.grants.lifecycle.lock_for_refresh_token`)."""
        grant = lifecycle.lock_for_refresh_token(refresh_token)
        valid = super().validate_refresh_token(refresh_token, client, request, *args, **kwargs)
        if not valid and revoke_replayed_refresh_token(refresh_token, client):
            raise oauthlib_errors.InvalidGrantError(description=REFRESH_REPLAYED, request=request)
        if valid and grant is not None:
            if not grant.is_usable:
                raise oauthlib_errors.InvalidGrantError(
                    description=GRANT_ENDED.format(what="refresh token"), request=request
                )
            carried = (
                IssuedRefreshToken.objects.filter(refresh_token=request.refresh_token_instance)
                .values_list("authorization_details", flat=True)
                .first()
            )
            context = context_of(request)
            context.grant, context.carried = grant, carried or []
            context.record(context.carried, grant.resource_server)
        return valid

    def _create_access_token(self, expires, request, token, source_refresh_token=None):
        """The access token and what it carries: its grant's details, or the subset asked for (§6)."""
        access_token = super()._create_access_token(expires, request, token, source_refresh_token)
        context = context_of(request)
        if context.grant is not None or context.details or context.resource_server is not None:
            context.issued_access_token = IssuedAccessToken.objects.create(
                access_token=access_token,
                grant=context.grant,
                resource_server=context.resource_server,
                authorization_details=context.details,
                grant_entries=context.entries(),
            )
        if context.grant is not None and request.grant_type == "authorization_code":
            lifecycle.redeemed(context.grant)
        context.access_token = access_token
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
                refresh_token=refresh_token, grant=context.grant, authorization_details=context.kept
            )
        return refresh_token

    def _save_bearer_token(self, token, request, *args, **kwargs):
        """RFC 9396 §7: the token response carries the access token's authorization_details.

        They are read from the row that records what the token carries, so the response describes
        the token issued, whatever else runs at the same time. For an API whose tokens are
        encrypted (JWE), the response keeps only each entry's ``type``: the details travel inside
        the token, readable by the API only. A grant of one-time entries only
        (:func:`rar_provider.grants.only_one_time_entries`) gets no refresh token: it could only
        mint tokens for what was already executed.
        """
        context = context_of(request)
        if "refresh_token" in token and only_one_time_entries(context.kept, context.resource_server):
            del token["refresh_token"]
        super()._save_bearer_token(token, request, *args, **kwargs)
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

    def _remember_redemption(self, request, token) -> None:
        """Keep the code's hash and what it produced, to revoke it all if the code comes back."""
        context = context_of(request)
        access_token = context.access_token
        # Django cached the reverse one-to-one when DOT created the refresh token: no query.
        refresh = getattr(access_token, "refresh_token", None) if access_token is not None else None
        try:
            with transaction.atomic():
                CodeRedemption.objects.create(
                    code_hash=sha256_hex(request.code),
                    application=request.client,
                    grant=context.grant,
                    access_token=access_token,
                    token_family=getattr(refresh, "token_family", None),
                )
        except IntegrityError:
            # The same code is being exchanged twice at once: the other exchange won.
            earlier = CodeRedemption.objects.select_related("access_token", "grant").get(
                code_hash=sha256_hex(request.code)
            )
            revoke_redeemed(earlier)
            raise oauthlib_errors.InvalidGrantError(
                description=CODE_REPLAYED,
                request=request,
            ) from None
