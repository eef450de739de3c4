"""The refresh token grant (RFC 6749 §6), on the validator's public hooks.

A refresh locks its grant first, then the refresh token (the lock order of
:mod:`rar_provider.grants.lifecycle`), and re-checks the grant's state under the lock: a
revocation that committed first is seen (``invalid_grant``); one that waits revokes what this
refresh issues too. RFC 9700 §4.14.2: a rotated or revoked refresh token sent again revokes its
whole grant.
"""

from __future__ import annotations

from oauth2_provider.models import get_refresh_token_model
from oauthlib.oauth2.rfc6749 import errors as oauthlib_errors

from ..dpop import binding as dpop
from ..grants import lifecycle
from ..models import IssuedRefreshToken, sha256_hex
from .code_exchange import GRANT_ENDED
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


class RefreshMixin:
    """``OAuth2Validator`` hooks of the refresh token grant (RFC 6749 §6)."""

    def validate_refresh_token(self, refresh_token, client, request, *args, **kwargs):
        """RFC 6749 §6: the refresh token is valid and its grant usable — read under lock, so a
        concurrent revocation of the grant either comes first and is seen, or waits and then also
        revokes what this refresh issues (:func:`rar_provider.grants.lifecycle.lock_for_refresh_token`).
        A refresh token issued with DPoP needs a proof (RFC 9449 §5, :mod:`rar_provider.dpop.binding`)."""
        grant = lifecycle.lock_for_refresh_token(refresh_token)
        valid = super().validate_refresh_token(refresh_token, client, request, *args, **kwargs)
        if not valid and revoke_replayed_refresh_token(refresh_token, client):
            raise oauthlib_errors.InvalidGrantError(description=REFRESH_REPLAYED, request=request)
        if valid and grant is not None:
            if not grant.is_usable:
                raise oauthlib_errors.InvalidGrantError(
                    description=GRANT_ENDED.format(what="refresh token"), request=request
                )
            carried, dpop_jkt = (
                IssuedRefreshToken.objects.filter(refresh_token=request.refresh_token_instance)
                .values_list("authorization_details", "dpop_jkt")
                .first()
            ) or ([], "")
            dpop.check_refresh_binding(dpop_jkt, request)
            context = context_of(request)
            context.grant, context.carried = grant, carried or []
            context.record(context.carried, grant.resource_server)
        return valid
