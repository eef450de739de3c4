"""The authorization code grant's token request (RFC 6749 §4.1.3), on the validator's public hooks.

A code is issued under its grant (:class:`~rar_provider.models.IssuedCode`, with what it carries).
At the token endpoint, inside the view's transaction, the code's grant is locked first (the lock
order of :mod:`rar_provider.grants.lifecycle`), then the code is read once — with its user and what
it carries — and every later question oauthlib asks about it (PKCE challenge and method, redirect
URI, invalidation) is answered from that row: no second read, and never a half-read code
(``Grant.DoesNotExist``, a 500) when a concurrent exchange deleted it.

RFC 6749 §4.1.2 / RFC 9700 §4.5: a code used twice is refused, and its grant is revoked
(:class:`~rar_provider.models.CodeRedemption` remembers the code's hash after DOT deletes it).
"""

from __future__ import annotations

import json

from django.db import IntegrityError, transaction
from django.utils import timezone
from oauth2_provider.models import get_grant_model, get_refresh_token_model
from oauthlib.oauth2.rfc6749 import errors as oauthlib_errors

from .. import signals
from ..dpop import binding as dpop
from ..grants import lifecycle, only_one_time_entries
from ..models import CodeRedemption, IssuedCode, sha256_hex
from .context import context_of

CODE_REPLAYED = "This authorization code was already used; the tokens issued with it are revoked."
GRANT_ENDED = "The authorization behind this {what} was revoked or has ended."


class ReplayFound(Exception):
    """A replay found while the tokens are saved, inside DOT's ``save_bearer_token`` savepoint.

    Whatever is revoked in that savepoint is rolled back with it, so the revocation is carried out
    here as ``revoke`` (no arguments) and run by the validator's ``save_bearer_token`` after the
    savepoint rolled back, in the token request's transaction, which then commits with the
    ``invalid_grant`` answer (``description``).
    """

    def __init__(self, revoke, description: str):
        super().__init__(description)
        self.revoke = revoke
        self.description = description


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


class CodeExchangeMixin:
    """``OAuth2Validator`` hooks of the authorization code grant (RFC 6749 §4.1.2–§4.1.3)."""

    def _create_authorization_code(self, request, code, expires=None):
        """RFC 6749 §4.1.2: the code is issued under the request's grant (``approved`` → ``code_issued``),
        carrying the request's details; whether they are one-time only is decided now, from the
        request's validated catalogue (no query at the token endpoint)."""
        code_row = super()._create_authorization_code(request, code, expires)
        context = context_of(request)
        if context.grant is not None:
            IssuedCode.objects.create(
                code=code_row,
                grant=context.grant,
                authorization_details=context.details,
                one_time_only=only_one_time_entries(context.details, context.detail_types),
                # RFC 9449 §10: the request's dpop_jkt (a DPoP proof at PAR is kept as one).
                dpop_jkt=getattr(request, "dpop_jkt", None) or "",
            )
            lifecycle.code_issued(context.grant)
        return code_row

    def _presented_code(self, code: str, request):
        """The code's row, read once per request (by :meth:`validate_code`, after the lock)."""
        row = context_of(request).code_row
        if row is None or row.code != code:
            row = get_grant_model().objects.get(code=code, application=request.client)
            context_of(request).code_row = row
        return row

    def validate_code(self, client_id, code, client, request, *args, **kwargs):
        """RFC 6749 §4.1.3 / §10.5: the code is valid, its grant still usable, and the code is used
        once even by concurrent exchanges.

        The code's grant is locked first (:func:`rar_provider.grants.lifecycle.lock_for_code`): a
        second exchange of the same code waits for the first to commit, then finds the code gone
        and its redemption recorded, so it revokes the grant (RFC 6749 §4.1.2) and gets
        ``invalid_grant``. A grant revoked meanwhile is ``invalid_grant`` too. DOT's checks
        (expiry, scopes, user, nonce, claims) run on the one row read after the lock. A code bound
        to a DPoP key needs a proof of that key (RFC 9449 §10, ``invalid_grant``).
        """
        grant = lifecycle.lock_for_code(code, client)
        context = context_of(request)
        issued = (
            IssuedCode.objects.select_related("code__user")
            .filter(code__code=code, code__application=client)
            .first()
            if grant is not None
            else None
        )
        row = (
            issued.code
            if issued is not None
            else get_grant_model()
            .objects.select_related("user")
            .filter(code=code, application=client)
            .first()
        )
        if row is None or row.is_expired():
            return self._refuse_replayed_code(code, client, request)
        if grant is not None:
            if not grant.is_usable:
                raise oauthlib_errors.InvalidGrantError(
                    description=GRANT_ENDED.format(what="code"), request=request
                )
            dpop.check_code_binding(issued.dpop_jkt, request)
            context.grant, context.carried, context.one_time_only = (
                grant,
                issued.authorization_details,
                issued.one_time_only,
            )
            context.record(issued.authorization_details, grant.resource_server)
        context.code_row = row
        request.scopes = row.scope.split(" ")
        request.user = row.user
        if row.nonce:
            request.nonce = row.nonce
        if row.claims:
            request.claims = json.loads(row.claims)
        return True

    def _refuse_replayed_code(self, code: str, client, request) -> bool:
        """An unknown or expired code; if it was redeemed before, revoke its grant (RFC 6749 §4.1.2)."""
        redemption = (
            CodeRedemption.objects.select_related("access_token", "grant")
            .filter(code_hash=sha256_hex(code), application=client)
            .first()
        )
        if redemption is not None:
            revoke_redeemed(redemption)
            raise oauthlib_errors.InvalidGrantError(description=CODE_REPLAYED, request=request)
        return False

    def get_code_challenge(self, code, request):
        """RFC 7636 §4.6; RFC 9700 §4.8.2 (PKCE downgrade): a ``code_verifier`` is accepted only if
        the authorization request had a ``code_challenge``; otherwise ``invalid_grant``."""
        challenge = self._presented_code(code, request).code_challenge or None
        if challenge is None and getattr(request, "code_verifier", None) is not None:
            raise oauthlib_errors.InvalidGrantError(
                description="code_verifier was sent, but the authorization request had no code_challenge "
                "(RFC 9700 §4.8.2).",
                request=request,
            )
        return challenge

    def get_code_challenge_method(self, code, request):
        """RFC 7636 §4.3: the method the authorization request named."""
        return self._presented_code(code, request).code_challenge_method or None

    def confirm_redirect_uri(self, client_id, code, redirect_uri, client, request, *args, **kwargs):
        """RFC 6749 §5.2: a ``redirect_uri`` that differs from the authorization request's is
        ``invalid_grant`` (oauthlib would answer ``invalid_request``)."""
        if self._presented_code(code, request).redirect_uri_allowed(redirect_uri):
            return True
        raise oauthlib_errors.InvalidGrantError(
            description="redirect_uri does not match the one in the authorization request (RFC 6749 §4.1.3).",
            request=request,
        )

    def _check_and_set_request_resource(self, request):
        """RFC 8707 §2.2 at the token endpoint (DOT's private hook, :mod:`.seams`): for a code
        exchange, the code's ``resource`` comes from the row already read, not a new query."""
        row = context_of(request).code_row
        if request.grant_type != "authorization_code" or row is None:
            return super()._check_and_set_request_resource(request)
        request.grant_type = "client_credentials"  # DOT's normalizing and URI checks only
        try:
            super()._check_and_set_request_resource(request)
        finally:
            request.grant_type = "authorization_code"
        granted = row.resource or []
        for resource in request.resource if granted else ():
            if resource not in granted:
                raise oauthlib_errors.CustomOAuth2Error(
                    error="invalid_target",
                    description=f"The requested resource {resource!r} is not allowed: a token request cannot "
                    "ask for more than the authorization request (RFC 8707 §2.2).",
                    request=request,
                )
        if granted and not request.resource:
            self._validate_resource_uris(request, granted)
            request.resource = granted

    def invalidate_authorization_code(self, client_id, code, request, *args, **kwargs):
        """RFC 6749 §4.1.2: the code is used up (deleted with what points at it)."""
        row = self._presented_code(code, request)
        deleted, _ = get_grant_model().objects.filter(pk=row.pk).delete()
        if not deleted:
            raise oauthlib_errors.InvalidGrantError(request=request)

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
            code_hash = sha256_hex(request.code)

            def revoke() -> None:
                revoke_redeemed(
                    CodeRedemption.objects.select_related("access_token", "grant").get(code_hash=code_hash)
                )

            raise ReplayFound(revoke, CODE_REPLAYED) from None
