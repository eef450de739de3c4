"""DOT's ``OAuth2Validator`` with authorization_details kept on codes and tokens.

A few hooks only; everything else is DOT's (RFC 9396 §7: the granted details
travel from the authorization code to the tokens and the token response).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.db import IntegrityError, router, transaction
from django.utils import timezone
from oauth2_provider.models import get_grant_model, get_refresh_token_model
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauthlib.oauth2.rfc6749 import errors as oauthlib_errors

from .. import consents, signals
from ..grants import new_grant_id, only_one_time_entries
from ..models import (
    AccessTokenDetails,
    AccessTokenFormat,
    CodeDetails,
    CodeRedemption,
    Consent,
    ConsentIssue,
    RefreshTokenDetails,
    sha256_hex,
)
from . import trusted


def _granted(request) -> tuple[list[dict], object]:
    return trusted.trusted(request, trusted.DETAILS) or [], trusted.trusted(request, trusted.RESOURCE_SERVER)


CODE_REPLAYED = "This authorization code was already used; the tokens issued with it are revoked."
REFRESH_REPLAYED = (
    "This refresh token was already used or revoked; every token issued from the same grant is revoked."
)


def revoke_replayed_refresh_token(refresh_token: str, client) -> bool:
    """RFC 9700 §4.14.2: a rotated (or revoked) refresh token sent again revokes its whole family.

    DOT does this only with ``REFRESH_TOKEN_REUSE_PROTECTION`` (off by default); here it
    always holds. Returns whether ``refresh_token`` was such a token of ``client``.
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
    return True


def lock_code(code: str, client) -> None:
    """Lock the authorization code's row until the current transaction ends (no-op outside one).

    The token endpoint runs a code exchange in one transaction
    (:class:`rar_provider.views.token.TokenView`); on a database without row locks (SQLite) the
    transaction itself serializes writers (``transaction_mode: IMMEDIATE``).
    """
    grants = get_grant_model().objects
    if transaction.get_connection(router.db_for_write(get_grant_model())).in_atomic_block:
        list(grants.select_for_update().filter(code=code, application=client).values_list("pk", flat=True))


def lock_refresh_token(refresh_token: str) -> None:
    """Lock the refresh token's consent, then the token, until the transaction ends (no-op outside one).

    The lock order is the one revocation uses (:func:`rar_provider.consents.revoke_consent`:
    consent, then its tokens), so a refresh racing a "Revoke" cannot deadlock with it. Whichever
    locks the consent first goes first: a revocation that committed is seen by the refresh (the
    token is revoked: ``invalid_grant``); a refresh that committed has linked its new tokens to the
    consent, and the revocation, reading the links under the lock, revokes them too (TOK-09).
    """
    refresh_tokens = get_refresh_token_model().objects
    if not transaction.get_connection(router.db_for_write(get_refresh_token_model())).in_atomic_block:
        return
    checksum = sha256_hex(refresh_token)
    consent_id = (
        ConsentIssue.objects.filter(refresh_token__token_checksum=checksum)
        .values_list("consent_id", flat=True)
        .first()
    )
    if consent_id is not None:
        list(Consent.objects.select_for_update().filter(pk=consent_id).values_list("pk", flat=True))
    list(refresh_tokens.select_for_update().filter(token_checksum=checksum).values_list("pk", flat=True))


def revoke_redeemed(redemption: CodeRedemption) -> None:
    """RFC 6749 §4.1.2: revoke every token issued from a code that is used again."""
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
        grant = super()._create_authorization_code(request, code, expires)
        consents.link_code(request, grant)
        details, resource_server = _granted(request)
        if details or resource_server is not None:
            CodeDetails.objects.create(
                grant=grant,
                resource_server=resource_server,
                authorization_details=details,
                grant_identifier=new_grant_id(),
            )
        return grant

    def validate_code(self, client_id, code, client, request, *args, **kwargs):
        """RFC 6749 §4.1.3 / §10.5: the code is valid, and used once even by concurrent exchanges.

        Inside the token endpoint's transaction the code's row is locked first
        (:func:`lock_code`): a second exchange of the same code waits for the first to commit,
        then finds the code gone and its redemption recorded, so it revokes what the first one
        was issued (RFC 6749 §4.1.2) and gets ``invalid_grant`` — never a half-read grant
        (``Grant.DoesNotExist``, a 500).
        """
        lock_code(code, client)
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
                setattr(request, trusted.GRANT_ID, stored.grant_identifier)
            return True
        redemption = (
            CodeRedemption.objects.select_related("access_token")
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
        """RFC 6749 §6: the refresh token is valid — read under lock, so a concurrent revocation of
        its consent (or of the token) either comes first and is seen, or waits and then also revokes
        what this refresh issues (:func:`lock_refresh_token`)."""
        lock_refresh_token(refresh_token)
        valid = super().validate_refresh_token(refresh_token, client, request, *args, **kwargs)
        if not valid and revoke_replayed_refresh_token(refresh_token, client):
            raise oauthlib_errors.InvalidGrantError(description=REFRESH_REPLAYED, request=request)
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
                setattr(request, trusted.GRANT_ID, stored.grant_identifier)
        return valid

    def _create_access_token(self, expires, request, token, source_refresh_token=None):
        access_token = super()._create_access_token(expires, request, token, source_refresh_token)
        consents.link_token(request, access_token=access_token)
        details, resource_server = _granted(request)
        if details or resource_server is not None:
            grant_id, entries = trusted.grant_of(request)
            AccessTokenDetails.objects.create(
                access_token=access_token,
                resource_server=resource_server,
                authorization_details=details,
                grant_identifier=grant_id,
                grant_entries=entries,
            )
        setattr(request, trusted.ACCESS_TOKEN, access_token)
        return access_token

    def _create_refresh_token(self, request, refresh_token_code, access_token, previous_refresh_token):
        refresh_token = super()._create_refresh_token(
            request, refresh_token_code, access_token, previous_refresh_token
        )
        consents.link_token(request, refresh_token=refresh_token)
        _, resource_server = _granted(request)
        details = trusted.granted_details(request)  # the whole grant, even when the access token is narrower
        if details or resource_server is not None:
            RefreshTokenDetails.objects.create(
                refresh_token=refresh_token,
                resource_server=resource_server,
                authorization_details=details,
                grant_identifier=trusted.trusted(request, trusted.GRANT_ID) or "",
            )
        return refresh_token

    def _save_bearer_token(self, token, request, *args, **kwargs):
        """RFC 9396 §7: the token response carries the granted authorization_details.

        For an API whose tokens are encrypted (JWE), the response keeps only each
        entry's ``type``: the details travel inside the token, readable by the API only.
        A grant of one-time entries only (:func:`rar_provider.grants.only_one_time_entries`)
        gets no refresh token: it could only mint tokens for what was already executed.
        """
        _, resource_server = _granted(request)
        granted = trusted.granted_details(request)
        if "refresh_token" in token and only_one_time_entries(granted, resource_server):
            del token["refresh_token"]
        super()._save_bearer_token(token, request, *args, **kwargs)
        details, resource_server = _granted(request)
        if details:
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
        access_token = trusted.trusted(request, trusted.ACCESS_TOKEN)
        # Django cached the reverse one-to-one when DOT created the refresh token: no query.
        refresh = getattr(access_token, "refresh_token", None) if access_token is not None else None
        try:
            with transaction.atomic():
                CodeRedemption.objects.create(
                    code_hash=sha256_hex(request.code),
                    application=request.client,
                    access_token=access_token,
                    token_family=getattr(refresh, "token_family", None),
                )
        except IntegrityError:
            # The same code is being exchanged twice at once: the other exchange won.
            earlier = CodeRedemption.objects.select_related("access_token").get(
                code_hash=sha256_hex(request.code)
            )
            revoke_redeemed(earlier)
            raise oauthlib_errors.InvalidGrantError(
                description=CODE_REPLAYED,
                request=request,
            ) from None
