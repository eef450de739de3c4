"""Projections of the grant: *Your authorizations* and the admin's counts.

The token response, the JWT and introspection read the grant through the token's
:class:`~rar_provider.models.IssuedAccessToken` (its ``grant`` and the entries it carries).
"""

from __future__ import annotations

from django.db.models import BooleanField, Case, CharField, Exists, OuterRef, Q, Value, When
from django.utils import timezone

from ..models import AuthorizationGrant, GrantState, IssuedAccessToken, IssuedCode, IssuedRefreshToken

#: The states of a grant, as the user's list names them.
ACTIVE, USED, REVOKED, EXPIRED = "active", "used", "revoked", "expired"
STATES = (ACTIVE, USED, REVOKED, EXPIRED)


def with_state(queryset, now=None):
    """Annotate each grant with ``status`` (one of :data:`STATES`), computed in SQL.

    * ``revoked``: the user or an operator revoked it (or what it was for was deleted);
    * ``used``: a one-time grant (``transactional`` API, not reusable) whose code was exchanged:
      what it approved was used; while a token issued under it still lives (``live``: an
      unexpired access token or an unrevoked refresh token) it can still be revoked;
    * ``active``: a reusable grant not yet expired, or with live tokens or an unrevoked refresh
      token; a one-time grant whose code is not exchanged yet and still valid;
    * ``expired``: everything else (a reusable grant past its lifetime with nothing live, a
      one-time grant whose code expired unused).

    ``live`` is annotated too: a code, an access token or a refresh token issued under the grant
    can still be used. The same in SQL for every row: filtering and paginating by status cost no
    extra query per row.
    """
    now = now or timezone.now()
    live_code = Exists(IssuedCode.objects.filter(grant=OuterRef("pk"), code__expires__gt=now))
    live_token = (
        live_code
        | Exists(IssuedAccessToken.objects.filter(grant=OuterRef("pk"), access_token__expires__gt=now))
        | Exists(IssuedRefreshToken.objects.filter(grant=OuterRef("pk"), refresh_token__revoked__isnull=True))
    )
    unexpired = Q(expires__isnull=True) | Q(expires__gt=now)
    return queryset.annotate(
        live=Case(When(live_token, then=Value(True)), default=Value(False), output_field=BooleanField()),
        status=Case(
            When(Q(revoked__isnull=False) | Q(state=GrantState.REVOKED), then=Value(REVOKED)),
            When(state=GrantState.EXPIRED, then=Value(EXPIRED)),
            When(Q(reusable=False, used__isnull=False), then=Value(USED)),
            When(Q(reusable=False) & Q(live_code), then=Value(ACTIVE)),
            When(Q(reusable=True) & (unexpired | Q(live_token)), then=Value(ACTIVE)),
            default=Value(EXPIRED),
            output_field=CharField(),
        ),
    )


def live_token_count(grant: AuthorizationGrant) -> int:
    """Unexpired access tokens and unused, unexpired codes issued under ``grant``."""
    now = timezone.now()
    return (
        grant.access_tokens.filter(access_token__expires__gt=now).count()
        + grant.codes.filter(code__expires__gt=now).count()
    )
