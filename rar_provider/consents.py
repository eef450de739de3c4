"""Stored consents: record, reuse, link to codes and tokens, revoke.

RFC 9396 §3: the user consents to the requested authorization details. A
resource server's consent policy decides what happens next time:

* ``standard``: a live consent (not revoked, not expired) of the same user,
  client and API that covers the new request — every scope, and every detail
  by the comparison used for narrowing (RFC 9396 §6.1,
  :func:`.details.details_are_covered`) — answers it without a prompt;
* ``transactional``: every request is consented afresh; the consent is
  stored for the user's list and for revocation, and never reused.

Every code and token issued under a consent is linked to it
(:class:`.models.ConsentIssue`), so revoking the consent revokes them
(RFC 7009 §2.1 semantics: a revoked refresh token takes its access tokens).
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.db.models import Case, CharField, Exists, OuterRef, Q, Value, When
from django.utils import timezone
from oauth2_provider.models import get_grant_model

from . import signals
from .conf import rar_settings
from .details import details_are_covered
from .models import Consent, ConsentIssue, ConsentPolicy
from .oauth import trusted
from .policy import detail_comparators

#: The credential the authorization view passes to oauthlib: the pk of the consent a code is issued under.
CONSENT = "rar_consent"


def find_covering_consent(user, application, resource_server, details: list[dict], scopes: list[str]):
    """The newest live, reusable consent that covers ``details`` and ``scopes``, or None.

    Only for an API with the ``standard`` consent policy; details are compared as for narrowing
    (RFC 9396 §6.1, ``DETAIL_COMPARATORS`` included: :func:`.policy.detail_comparators`).
    """
    if resource_server is None or resource_server.consent_policy != ConsentPolicy.STANDARD:
        return None
    candidates = Consent.objects.live().filter(
        user=user, application=application, resource_server=resource_server, reusable=True
    )
    wanted = {scope for scope in scopes if scope}
    comparators = detail_comparators()
    for consent in candidates.order_by("-created", "-pk"):
        if wanted <= set(consent.scopes) and details_are_covered(
            details, consent.authorization_details, comparators
        ):
            return consent
    return None


def record_consent(user, application, resource_server, scopes: list[str], details: list[dict]) -> Consent:
    """Store what the user just approved."""
    reusable = resource_server is not None and resource_server.consent_policy == ConsentPolicy.STANDARD
    return Consent.objects.create(
        user=user,
        application=application,
        resource_server=resource_server,
        scope=" ".join(scope for scope in scopes if scope),
        authorization_details=details,
        reusable=reusable,
        expires=timezone.now() + timedelta(seconds=rar_settings.CONSENT_LIFETIME),
    )


# -- links from codes and tokens (called by the validator) ----------------------------------------------


def link_code(request, grant) -> None:
    """``_create_authorization_code``: link the new code to the consent the view passed in."""
    consent_id = trusted.trusted(request, CONSENT)
    if consent_id is not None:
        ConsentIssue.objects.create(consent_id=consent_id, grant=grant)


def remember_consent_of_code(request, code: str, client) -> None:
    """``validate_code``: the tokens about to be issued belong to the code's consent."""
    issue = ConsentIssue.objects.filter(grant__code=code, grant__application=client).first()
    if issue is not None:
        setattr(request, CONSENT, issue.consent_id)


def remember_consent_of_refresh_token(request, refresh_token) -> None:
    """``validate_refresh_token``: refreshed tokens belong to the same consent."""
    if refresh_token is None:
        return
    issue = ConsentIssue.objects.filter(refresh_token=refresh_token).first()
    if issue is not None:
        setattr(request, CONSENT, issue.consent_id)


def link_token(request, *, access_token=None, refresh_token=None) -> None:
    """``_create_access_token`` / ``_create_refresh_token``: link the new token to the consent."""
    consent_id = trusted.trusted(request, CONSENT)
    if consent_id is not None:
        ConsentIssue.objects.create(
            consent_id=consent_id, access_token=access_token, refresh_token=refresh_token
        )
        if access_token is not None:  # the code was exchanged: a one-time consent is now used
            Consent.objects.filter(pk=consent_id, used__isnull=True).update(used=timezone.now())


# -- what is live, and revocation ------------------------------------------------------------------------

#: The states of a consent, as the user's list names them.
ACTIVE, USED, REVOKED, EXPIRED = "active", "used", "revoked", "expired"
STATES = (ACTIVE, USED, REVOKED, EXPIRED)


def with_state(queryset, now=None):
    """Annotate each consent with ``state`` (one of :data:`STATES`), computed in SQL.

    * ``revoked``: the user or an operator revoked it (or what it was for was deleted);
    * ``used``: a one-time consent (``transactional`` API, not reusable) whose code was exchanged:
      it cannot be used again, so there is nothing left to revoke;
    * ``active``: a reusable consent not yet expired, or with live tokens or an unrevoked refresh
      token; a one-time consent whose code is not exchanged yet and still valid;
    * ``expired``: everything else (a reusable consent past its lifetime with nothing live, a
      one-time consent whose code expired unused).

    The same in SQL for every row: filtering and paginating by state cost no extra query per row.
    """
    now = now or timezone.now()
    issues = ConsentIssue.objects.filter(consent=OuterRef("pk"))
    live_code = Exists(issues.filter(grant__expires__gt=now))
    live_token = Exists(
        issues.filter(
            Q(access_token__expires__gt=now)
            | Q(grant__expires__gt=now)
            | Q(refresh_token__isnull=False, refresh_token__revoked__isnull=True)
        )
    )
    unexpired = Q(expires__isnull=True) | Q(expires__gt=now)
    return queryset.annotate(
        state=Case(
            When(revoked__isnull=False, then=Value(REVOKED)),
            When(Q(reusable=False, used__isnull=False), then=Value(USED)),
            When(Q(reusable=False) & Q(live_code), then=Value(ACTIVE)),
            When(Q(reusable=True) & (unexpired | Q(live_token)), then=Value(ACTIVE)),
            default=Value(EXPIRED),
            output_field=CharField(),
        )
    )


# -- revocation ------------------------------------------------------------------------


def live_token_count(consent: Consent) -> int:
    """Unexpired access tokens and unused, unexpired codes issued under ``consent``."""
    now = timezone.now()
    return consent.issued.filter(Q(access_token__expires__gt=now) | Q(grant__expires__gt=now)).count()


@transaction.atomic
def revoke_consent(consent: Consent, request=None) -> bool:
    """Revoke ``consent`` and everything issued under it: unused codes, access and refresh tokens.

    Returns False if it was already revoked. One transaction: all or nothing.
    """
    locked = Consent.objects.select_for_update().filter(pk=consent.pk, revoked__isnull=True).first()
    if locked is None:
        return False
    issued = list(locked.issued.select_related("grant", "access_token", "refresh_token"))
    grant_ids = [issue.grant_id for issue in issued if issue.grant_id]
    for issue in issued:
        if issue.refresh_token is not None:
            issue.refresh_token.revoke()  # DOT: marks it revoked and deletes its access token
    for issue in locked.issued.select_related("access_token").filter(access_token__isnull=False):
        issue.access_token.revoke()  # DOT: deletes the token
    get_grant_model().objects.filter(pk__in=grant_ids).delete()
    locked.revoked = timezone.now()
    locked.save(update_fields=["revoked"])
    consent.revoked = locked.revoked
    signals.consent_revoked.send(sender=Consent, request=request, consent=locked)
    return True
