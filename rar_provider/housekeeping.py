"""Bounded growth: delete everything that has ended, in batches, safely from several nodes at once.

What ends, and when its row goes (``now`` is the time of the run):

* **codes and tokens** (DOT's ``Grant``, ``AccessToken``, ``RefreshToken``, ``IDToken``): once they
  ended (expired, or were revoked; an access token a refresh replaced expired then) more than
  ``REPLAY_WINDOW`` seconds ago. A revoked refresh token is
  kept at least DOT's ``REFRESH_TOKEN_GRACE_PERIOD_SECONDS`` and, with DOT's
  ``REFRESH_TOKEN_REUSE_PROTECTION``, while its family has a live token (a replay of it must still
  revoke the family, RFC 9700 §4.14.2). An unrevoked refresh token ends ``REFRESH_TOKEN_EXPIRE_SECONDS``
  after its access token expired (DOT's idle expiry; never when that setting is ``None``). The rules
  are those of DOT's ``cleartokens`` plus the replay window, so this replaces it.
* **pushed authorization requests** (RFC 9126): ``CONSENT_MAX_AGE`` after they expired (a consent page
  opened in time may still be answered until then), used or not.
* **redeemed-code records** (RFC 6749 §4.1.2): once no token issued from the code can still be used
  (its access token is gone and its refresh-token family has no live token), and at least the code's
  own lifetime after redemption.
* **grants** (RFC 9396 §3): ``CONSENT_RETENTION`` seconds after they ended (revoked, or expired),
  once no code or token issued under them is left; the user's "Your authorizations" shows them until
  then. A grant never decided (its consent page was left open) or denied goes ``CONSENT_MAX_AGE``
  after it was created: its page can no longer be posted.

Several nodes may run this at once: each batch takes its rows with ``SELECT … FOR UPDATE SKIP LOCKED``
(on databases that have it, e.g. PostgreSQL) and deletes them in the same transaction, so two runs never
wait on or delete the same rows; on SQLite the write lock serializes the batches. A delete is idempotent:
a run that dies midway leaves nothing half done.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connections, router, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from oauth2_provider.models import (
    get_access_token_model,
    get_grant_model,
    get_id_token_model,
    get_refresh_token_model,
)
from oauth2_provider.settings import oauth2_settings

from .conf import rar_settings
from .models import (
    AuthorizationGrant,
    CodeRedemption,
    GrantState,
    IssuedAccessToken,
    IssuedCode,
    IssuedRefreshToken,
    PushedAuthorizationRequest,
)

__all__ = ["DEFAULT_BATCH_SIZE", "Pruned", "delete_in_batches", "prune"]

#: Rows deleted per transaction.
DEFAULT_BATCH_SIZE = 1000


def delete_in_batches(queryset: QuerySet, batch_size: int = DEFAULT_BATCH_SIZE) -> int:
    """Delete the rows of ``queryset`` (and what cascades from them) ``batch_size`` at a time.

    Each batch is one transaction that locks its rows first, skipping rows another run holds.
    Returns how many rows of ``queryset``'s model were deleted. ``batch_size`` must be ≥ 1.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    model = queryset.model
    alias = router.db_for_write(model)
    features = connections[alias].features
    lock = {}
    if features.has_select_for_update:
        lock["skip_locked"] = features.has_select_for_update_skip_locked
        if features.has_select_for_update_of:
            lock["of"] = ("self",)  # only this table's rows, not the joined ones
    deleted = 0
    while True:
        with transaction.atomic(using=alias):
            candidates = queryset.using(alias).order_by("pk")
            if lock:
                candidates = candidates.select_for_update(**lock)
            batch = list(candidates.values_list("pk", flat=True)[:batch_size])
            if not batch:
                return deleted
            model._base_manager.using(alias).filter(pk__in=batch).delete()
        deleted += len(batch)


@dataclass
class Pruned:
    """How many rows each step deleted, in the order the steps run."""

    counts: dict[str, int]

    def lines(self) -> list[str]:
        return [f"Deleted {count} {what}." for what, count in self.counts.items()]


def _steps(now: datetime) -> list[tuple[str, Callable[[], QuerySet]]]:
    """(what, queryset of the rows to delete), in an order where each step frees the next."""
    window = timedelta(seconds=rar_settings.REPLAY_WINDOW)
    ended_before = now - window
    grant_model = get_grant_model()
    access_token_model = get_access_token_model()
    refresh_token_model = get_refresh_token_model()
    id_token_model = get_id_token_model()

    def revoked_refresh_tokens() -> QuerySet:
        grace = timedelta(seconds=oauth2_settings.REFRESH_TOKEN_GRACE_PERIOD_SECONDS or 0)
        tokens = refresh_token_model.objects.filter(revoked__lt=now - max(window, grace))
        if oauth2_settings.REFRESH_TOKEN_REUSE_PROTECTION:
            live_in_family = refresh_token_model.objects.filter(
                token_family=OuterRef("token_family"), revoked__isnull=True
            )
            tokens = tokens.exclude(Q(token_family__isnull=False) & Exists(live_in_family))
        return tokens

    def idle_refresh_tokens() -> QuerySet:
        idle = oauth2_settings.REFRESH_TOKEN_EXPIRE_SECONDS
        if not idle:
            return refresh_token_model.objects.none()
        idle = idle if isinstance(idle, timedelta) else timedelta(seconds=idle)
        return refresh_token_model.objects.filter(
            revoked__isnull=True, access_token__expires__lt=ended_before - idle
        )

    def orphaned_refresh_tokens() -> QuerySet:
        # DOT's rule: not revoked, but its access token is gone (deleted out of band).
        return refresh_token_model.objects.filter(revoked__isnull=True, access_token__isnull=True)

    def code_redemptions() -> QuerySet:
        live_refresh = refresh_token_model.objects.filter(
            token_family=OuterRef("token_family"), revoked__isnull=True
        )
        code_lifetime = timedelta(seconds=oauth2_settings.AUTHORIZATION_CODE_EXPIRE_SECONDS)
        return CodeRedemption.objects.filter(
            access_token__isnull=True, redeemed_at__lt=now - code_lifetime
        ).exclude(Q(token_family__isnull=False) & Exists(live_refresh))

    def grants() -> QuerySet:
        retained_from = now - timedelta(seconds=rar_settings.CONSENT_RETENTION)
        issued = (
            Exists(IssuedCode.objects.filter(grant=OuterRef("pk")))
            | Exists(IssuedAccessToken.objects.filter(grant=OuterRef("pk")))
            | Exists(IssuedRefreshToken.objects.filter(grant=OuterRef("pk")))
        )
        return AuthorizationGrant.objects.filter(
            Q(revoked__lt=retained_from) | Q(expires__lt=retained_from)
        ).exclude(issued)

    consent_window = timedelta(seconds=rar_settings.CONSENT_MAX_AGE)
    return [
        ("expired authorization code(s)", lambda: grant_model.objects.filter(expires__lt=ended_before)),
        ("revoked refresh token(s)", revoked_refresh_tokens),
        ("idle refresh token(s)", idle_refresh_tokens),
        ("orphaned refresh token(s)", orphaned_refresh_tokens),
        (
            # An access token a rotation ended (rar_provider.oauth.refresh) goes even while the revoked
            # refresh token pointing at it is kept (the replay window, reuse protection).
            "expired access token(s)",
            lambda: access_token_model.objects.filter(
                Q(refresh_token__isnull=True) | Q(refresh_token__revoked__isnull=False),
                expires__lt=ended_before,
            ),
        ),
        (
            "expired ID token(s)",
            lambda: id_token_model.objects.filter(expires__lt=ended_before, access_token__isnull=True),
        ),
        ("code redemption record(s) with no live token", code_redemptions),
        (
            "expired pushed authorization request(s)",
            lambda: PushedAuthorizationRequest.objects.filter(expires_at__lt=now - consent_window),
        ),
        (
            # A consent page older than CONSENT_MAX_AGE cannot be posted any more (its signature expired).
            "undecided or denied grant(s) past CONSENT_MAX_AGE",
            lambda: AuthorizationGrant.objects.filter(
                state__in=(GrantState.PENDING, GrantState.DENIED), created__lt=now - consent_window
            ),
        ),
        ("ended grant(s) past the retention period", grants),
    ]


def prune(now: datetime | None = None, batch_size: int = DEFAULT_BATCH_SIZE) -> Pruned:
    """Delete everything that ended (see the module's docstring) as of ``now`` (default: the time now)."""
    now = now or timezone.now()
    return Pruned({what: delete_in_batches(rows(), batch_size) for what, rows in _steps(now)})
