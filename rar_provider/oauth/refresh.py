"""The refresh token grant (RFC 6749 §6), on the validator's public hooks, and its rotation.

A refresh locks its grant first, then the refresh token (the lock order of
:mod:`rar_provider.grants.lifecycle`), and re-checks the grant's state under the lock: a
revocation that committed first is seen (``invalid_grant``); one that waits revokes what this
refresh issues too. RFC 9700 §4.14.2: a rotated or revoked refresh token sent again revokes its
whole grant.

**Rotation** (RFC 9700 §4.14.2) is ours for a live refresh token issued under a grant, in eight
statements: the client (client authentication), the refresh token with its access token, user,
record and grant — the grant locked — in one ``SELECT`` (:func:`~rar_provider.grants.lifecycle.
lock_live_refresh_token`), then ``UPDATE`` the presented refresh token to revoked *where it is not
yet* (the statement that decides a race: the loser is a replay), ``UPDATE`` its access token to
expire now, and ``INSERT`` the new access token, refresh token and their two records. The previous
access token is ended by expiry rather than deleted, so what it carried stays on record until
``cleartokens`` (every check of a token — introspection, DOT's resource protection, the DRF guard's
revocation check — refuses an expired one). Anything else — a refresh token without a grant, a
non-zero ``REFRESH_TOKEN_GRACE_PERIOD_SECONDS``, no rotation (FAPI 2.0: the token is read again
once the grant is locked, since no conditional ``UPDATE`` would catch a stale read) — takes DOT's
path.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from oauth2_provider.models import (
    get_access_token_model,
    get_refresh_token_model,
    refresh_token_expire_timedelta,
)
from oauth2_provider.settings import oauth2_settings
from oauthlib.oauth2.rfc6749 import errors as oauthlib_errors

from ..dpop import binding as dpop
from ..grants import lifecycle
from ..models import IssuedRefreshToken, sha256_hex
from .code_exchange import GRANT_ENDED, ReplayFound
from .context import context_of

REFRESH_REPLAYED = (
    "This refresh token was already used or revoked; every token issued from the same grant is revoked."
)


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


def _past_lifetime(refresh_token) -> bool:
    """DOT's ``REFRESH_TOKEN_EXPIRE_SECONDS``: dead that long after its access token expired."""
    lifetime = refresh_token_expire_timedelta()
    return bool(lifetime) and refresh_token.access_token.expires + lifetime <= timezone.now()


class RefreshMixin:
    """``OAuth2Validator`` hooks of the refresh token grant (RFC 6749 §6), and its rotation."""

    def validate_refresh_token(self, refresh_token, client, request, *args, **kwargs):
        """RFC 6749 §6: the refresh token is valid and its grant usable — read under the grant's lock
        (:func:`~rar_provider.grants.lifecycle.lock_live_refresh_token`, else DOT's path after
        :func:`~rar_provider.grants.lifecycle.lock_for_refresh_token`), so a concurrent revocation
        of the grant either comes first and is seen, or waits and then also revokes what this
        refresh issues. A refresh token issued with DPoP needs a proof (RFC 9449 §5,
        :mod:`rar_provider.dpop.binding`).

        Raises ``InvalidGrantError`` when the grant has ended or the token was replayed (which
        revokes the grant); returns False for an unknown token or another client's.
        """
        row = None
        if not oauth2_settings.REFRESH_TOKEN_GRACE_PERIOD_SECONDS:
            row = lifecycle.lock_live_refresh_token(refresh_token)
        if row is not None:  # which API, so that rotate_refresh_token can answer for this grant
            context_of(request).resource_server = row.rar_issued.grant.resource_server
        if (
            row is None
            or row.access_token is None
            or _past_lifetime(row)
            or not self.rotate_refresh_token(request)
        ):
            # No rotation (FAPI 2.0): no conditional UPDATE would notice a row read stale while the
            # grant's lock was awaited, so the token is read again under the lock, on DOT's path.
            return self._validate_refresh_token_by_dot(refresh_token, client, request, *args, **kwargs)
        if row.application_id != client.pk:
            return False
        request.user = row.user
        request.refresh_token = refresh_token
        request.refresh_token_instance = row
        self._refresh_under(row.rar_issued.grant, row.rar_issued, request)
        context_of(request).refresh_row = row
        return True

    def _validate_refresh_token_by_dot(self, refresh_token, client, request, *args, **kwargs):
        """The general path: the grant locked, then DOT's own validation (grace period, reuse)."""
        grant = lifecycle.lock_for_refresh_token(refresh_token)
        valid = super().validate_refresh_token(refresh_token, client, request, *args, **kwargs)
        if not valid and revoke_replayed_refresh_token(refresh_token, client):
            raise oauthlib_errors.InvalidGrantError(description=REFRESH_REPLAYED, request=request)
        if valid and grant is not None:
            issued = IssuedRefreshToken.objects.filter(refresh_token=request.refresh_token_instance).first()
            self._refresh_under(grant, issued, request)
        return valid

    def _refresh_under(self, grant, issued: IssuedRefreshToken | None, request) -> None:
        """The grant is usable and the DPoP proof matches; the context records what the token carries."""
        if not grant.is_usable:
            raise oauthlib_errors.InvalidGrantError(
                description=GRANT_ENDED.format(what="refresh token"), request=request
            )
        dpop.check_refresh_binding(issued.dpop_jkt if issued is not None else "", request)
        context = context_of(request)
        context.grant = grant
        context.carried = (issued.authorization_details if issued is not None else None) or []
        context.record(context.carried, grant.resource_server)

    def rotate(self, token: dict, request) -> bool:
        """RFC 9700 §4.14.2: rotate the refresh token presented, if :meth:`validate_refresh_token`
        read it on the rotation path; returns whether it did (else DOT's ``_save_bearer_token``).

        ``token``: oauthlib's token response (``access_token``, ``refresh_token``, ``scope``,
        ``expires_in`` in seconds). Raises :class:`~.code_exchange.ReplayFound` when a concurrent
        request rotated the token first (then, as for any replay, the whole grant is revoked, once
        DOT's savepoint has rolled back: ``invalid_grant``), or ``CustomOAuth2Error``
        (``invalid_target``) for a ``resource`` beyond the refresh token's (RFC 8707 §2.2).
        """
        previous = context_of(request).refresh_row
        new_value = token.get("refresh_token")
        if previous is None or request.grant_type != "refresh_token" or "scope" not in token:
            return False
        if new_value is None or new_value == request.refresh_token:
            return False
        self._check_and_set_request_resource(request)
        now = timezone.now()
        rotated = (
            get_refresh_token_model()
            .objects.filter(pk=previous.pk, revoked__isnull=True)
            .update(revoked=now, updated=now)
        )
        if not rotated:  # a concurrent refresh rotated it first: this is a replay
            presented, client = request.refresh_token, request.client
            raise ReplayFound(lambda: revoke_replayed_refresh_token(presented, client), REFRESH_REPLAYED)
        previous.revoked = now
        if previous.access_token_id is not None:  # ended: expired now (its record stays)
            ended = get_access_token_model().objects.filter(pk=previous.access_token_id)
            ended.update(expires=now, updated=now)
        lifetime = token.get("expires_in", oauth2_settings.ACCESS_TOKEN_EXPIRE_SECONDS)
        access_token = self._create_access_token(
            now + timedelta(seconds=lifetime), request, token, source_refresh_token=previous
        )
        self._create_refresh_token(request, new_value, access_token, previous)
        return True
