"""The grant's transitions: one transaction each, rows locked in one documented order.

**Lock order** (every writer follows it, so no two can deadlock on these rows):

1. the :class:`~rar_provider.models.AuthorizationGrant` row;
2. then the DOT authorization code (``Grant``) or refresh token row (a rotation's conditional
   ``UPDATE`` of the refresh token, :mod:`rar_provider.oauth.refresh`, or DOT's
   ``_save_bearer_token`` on its own path; a code or token without a grant is locked here);
3. then access tokens (DOT deletes a revoked one; a rotation expires the one it replaces).

A decision locks the pending grant (:func:`decide`); a code exchange and a refresh lock the grant of
their code or refresh token, then that code or token, and re-check the grant's state under the lock
(:func:`lock_for_code`, :func:`lock_live_refresh_token`, :func:`lock_for_refresh_token`); a
revocation locks the grant, flips it to ``revoked`` and ends everything issued under it in the same
transaction (:func:`revoke`). Whichever takes the grant's lock first goes first: a revocation that
committed is seen by the exchange or refresh (``invalid_grant``); an exchange or refresh that
committed has linked its new tokens to the grant, and the revocation, reading the links under the
lock, ends them too.

States only move forward (:data:`rar_provider.models.TRANSITIONS`); :func:`advance` is a
conditional ``UPDATE``, so a stale copy can never move a grant back.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import router, transaction
from django.utils import timezone
from oauth2_provider.models import get_access_token_model, get_grant_model, get_refresh_token_model

from .. import signals
from ..conf import rar_settings
from ..models import (
    TRANSITIONS,
    AuthorizationGrant,
    ConsentPolicy,
    GrantState,
    IssuedRefreshToken,
    sha256_hex,
)
from ..models.grants import types_text


class TransitionRefused(Exception):
    """A move the lifecycle does not allow (backwards, or out of a final state)."""


def sources_of(target: str) -> list[str]:
    """The states from which a grant may move to ``target``."""
    return [state for state, targets in TRANSITIONS.items() if target in targets]


def advance(grant: AuthorizationGrant, target: str, **fields) -> bool:
    """Move ``grant`` to ``target`` if its stored state allows it; returns whether it moved.

    A conditional ``UPDATE … WHERE state IN (sources)``: concurrent or stale callers cannot move a
    grant backwards. ``fields`` are set in the same statement (timestamps).
    """
    if target not in TRANSITIONS:
        raise TransitionRefused(f"unknown grant state {target!r}")
    moved = AuthorizationGrant.objects.filter(pk=grant.pk, state__in=sources_of(target)).update(
        state=target, **fields
    )
    if moved:
        grant.state = target
        for name, value in fields.items():
            setattr(grant, name, value)
    return bool(moved)


def _in_transaction() -> bool:
    return transaction.get_connection(router.db_for_write(AuthorizationGrant)).in_atomic_block


def _reusable(resource_server) -> bool:
    return resource_server is not None and resource_server.consent_policy == ConsentPolicy.STANDARD


def _scope(scopes) -> str:
    return " ".join(scope for scope in scopes if scope)


def open_pending(user, application, resource_server, scopes: list[str], details: list[dict]):
    """``pending``: the consent page for this request is being shown (one grant per page).

    Its ``expires`` is the page's lifetime (``CONSENT_MAX_AGE``); the decision sets the grant's own.
    """
    return AuthorizationGrant.objects.create(
        state=GrantState.PENDING,
        user=user,
        application=application,
        resource_server=resource_server,
        scope=_scope(scopes),
        authorization_details=details,
        reusable=_reusable(resource_server),
        expires=timezone.now() + timedelta(seconds=rar_settings.CONSENT_MAX_AGE),
    )


def approve_without_asking(user, application, resource_server, scopes: list[str], details: list[dict]):
    """``approved`` at once: no consent page was needed (``skip_authorization`` and the like)."""
    now = timezone.now()
    return AuthorizationGrant.objects.create(
        state=GrantState.APPROVED,
        user=user,
        application=application,
        resource_server=resource_server,
        scope=_scope(scopes),
        authorization_details=details,
        reusable=False,
        decided=now,
        expires=now + timedelta(seconds=rar_settings.CONSENT_LIFETIME),
    )


def decide(grant_pk: int, user, approved: list[dict] | None) -> AuthorizationGrant | None:
    """The user's decision on a pending grant: ``approved`` details, or ``None`` to deny.

    Locks the grant; returns ``None`` when it is not (or no longer) pending for this user — the same
    consent page posted twice, at once or later: one decision, one grant. Call inside a transaction
    that also issues the code, so a failure leaves the grant pending.
    """
    grant = AuthorizationGrant.objects.select_for_update().filter(pk=grant_pk, user=user).first()
    if grant is None or grant.state != GrantState.PENDING:
        return None
    now = timezone.now()
    if approved is None:
        advance(grant, GrantState.DENIED, decided=now)
        return grant
    advance(
        grant,
        GrantState.APPROVED,
        authorization_details=approved,
        types=types_text(approved),
        decided=now,
        expires=now + timedelta(seconds=rar_settings.CONSENT_LIFETIME),
    )
    return grant


def lock(grant_pk: int) -> AuthorizationGrant | None:
    """Lock a grant row until the transaction ends (step 1 of the lock order); ``None`` if gone."""
    return AuthorizationGrant.objects.select_for_update().filter(pk=grant_pk).first()


def _for_update(queryset):
    """``SELECT … FOR UPDATE`` of the grant row only (not the joined rows), where the database can say so."""
    connection = transaction.get_connection(router.db_for_write(AuthorizationGrant))
    if connection.features.has_select_for_update_of:
        return queryset.select_for_update(of=("self",))
    return queryset.select_for_update()


def _lock_grant_of(grants, token_rows) -> AuthorizationGrant | None:
    """Lock the grant found by ``grants`` (step 1); without a grant, lock ``token_rows`` (step 2).

    Exchanges and refreshes under one grant queue on the grant's row; a code or refresh token
    without a grant (issued by DOT's own view) is locked itself. Outside a transaction nothing is
    locked (the grant is still returned).
    """
    grants = grants.select_related("resource_server")
    if not _in_transaction():
        return grants.first()
    grant = _for_update(grants).first()
    if grant is None:
        list(token_rows.select_for_update().values_list("pk", flat=True))
    return grant


def lock_for_code(code: str, client) -> AuthorizationGrant | None:
    """Code exchange: lock the code's grant (else the code), inside the token transaction.

    Returns the grant (its state as committed), or ``None`` for a code without one.
    """
    return _lock_grant_of(
        AuthorizationGrant.objects.filter(codes__code__code=code, codes__code__application=client),
        get_grant_model().objects.filter(code=code, application=client),
    )


def lock_for_refresh_token(refresh_token: str) -> AuthorizationGrant | None:
    """Refresh: lock the refresh token's grant (else the token); as :func:`lock_for_code`."""
    checksum = sha256_hex(refresh_token)
    return _lock_grant_of(
        AuthorizationGrant.objects.filter(refresh_tokens__refresh_token__token_checksum=checksum),
        get_refresh_token_model().objects.filter(token_checksum=checksum),
    )


def lock_live_refresh_token(refresh_token: str):
    """Refresh in one statement: the live refresh token with its grant locked (step 1), or ``None``.

    Returns DOT's refresh token row, unrevoked, with its access token, user and
    :class:`~rar_provider.models.IssuedRefreshToken` (``rar_issued``, with its grant and the grant's
    API) joined in — or ``None`` when there is no such row (unknown, revoked, issued without a
    grant), or when the database can lock rows but not only some of a join's (the caller then takes
    the general path: :func:`lock_for_refresh_token`). After waiting for the lock, PostgreSQL returns
    the grant as committed but the refresh token's columns as first read: the rotation's conditional
    ``UPDATE … WHERE revoked IS NULL`` (:mod:`rar_provider.oauth.refresh`) is what decides a race.
    """
    rows = (
        get_refresh_token_model()
        .objects.filter(token_checksum=sha256_hex(refresh_token), revoked__isnull=True)
        .filter(rar_issued__grant__isnull=False)
        .select_related("access_token", "user", "rar_issued__grant__resource_server")
    )
    features = transaction.get_connection(router.db_for_write(AuthorizationGrant)).features
    if _in_transaction() and features.has_select_for_update:
        if not features.has_select_for_update_of:
            return None
        rows = rows.select_for_update(of=("rar_issued__grant",))
    return rows.first()


def code_issued(grant: AuthorizationGrant) -> None:
    """A code was issued under ``grant`` (``approved`` → ``code_issued``; later codes of a reusable
    grant leave it where it is)."""
    advance(grant, GrantState.CODE_ISSUED)


def redeemed(grant: AuthorizationGrant) -> None:
    """A code of ``grant`` was exchanged for tokens (``code_issued`` → ``redeemed``, ``used`` set once)."""
    now = timezone.now()
    if not advance(grant, GrantState.REDEEMED, used=now) and grant.used is None:
        AuthorizationGrant.objects.filter(pk=grant.pk, used__isnull=True).update(used=now)
        grant.used = now


def end_issued(grant: AuthorizationGrant) -> None:
    """Revoke every code and token issued under ``grant`` (the grant's row must be locked)."""
    for issued in IssuedRefreshToken.objects.filter(
        grant=grant, refresh_token__revoked__isnull=True
    ).select_related("refresh_token"):
        issued.refresh_token.revoke()  # DOT: marks it revoked and deletes its access token
    now = timezone.now()
    for issued in grant.access_tokens.filter(access_token__expires__gt=now).select_related("access_token"):
        issued.access_token.revoke()  # DOT: deletes the token
    # Those a refresh already ended (expired, :mod:`rar_provider.oauth.refresh`) go in one statement.
    get_access_token_model().objects.filter(rar_issued__grant=grant).delete()
    get_grant_model().objects.filter(rar_issued__grant=grant).delete()


@transaction.atomic
def revoke(
    grant: AuthorizationGrant, request=None, *, state: str = GrantState.REVOKED, announce: bool = True
) -> bool:
    """Revoke ``grant`` and everything issued under it: unused codes, access and refresh tokens.

    One transaction, the grant locked first: all or nothing, and a concurrent exchange or refresh
    either committed before (its tokens are ended here) or sees the grant revoked. Returns False if
    it was already revoked (or denied, or expired). ``state`` may be ``expired`` (housekeeping).
    ``announce``: send ``consent_revoked`` (a user's or operator's revocation; a replay that revokes
    has its own signal).
    """
    locked = lock(grant.pk)
    if locked is None or locked.revoked is not None or state not in TRANSITIONS.get(locked.state, ()):
        return False
    end_issued(locked)
    now = timezone.now()
    advance(locked, state, **({"revoked": now} if state == GrantState.REVOKED else {}))
    grant.state, grant.revoked = locked.state, locked.revoked
    if state == GrantState.REVOKED and announce:
        signals.consent_revoked.send(sender=AuthorizationGrant, request=request, grant=locked)
    return True
