"""The grant: what one user approved for one client, in one place, with one lifecycle.

RFC 6749 §1.3 calls the credential that represents the resource owner's authorization an
*authorization grant*; RFC 9396 §3 makes its content the approved ``authorization_details``; FAPI
Grant Management names it by a ``grant_id``. :class:`AuthorizationGrant` is that record: user,
client, API, the approved details and scope, the consent policy (``reusable``), and a ``state``
that only moves forward (:data:`TRANSITIONS`)::

    pending ──► approved ──► code_issued ──► redeemed ──► revoked | expired
       └──► denied                └──────────────┴──────► revoked | expired

Codes, access tokens and refresh tokens point at their grant (:class:`IssuedCode`,
:class:`IssuedAccessToken`, :class:`IssuedRefreshToken`); the token response, the JWT claims,
introspection and *Your authorizations* are projections of it, plus the subset a narrowed access
token carries (RFC 9396 §6). The transitions and the lock order live in
:mod:`rar_provider.grants.lifecycle`.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from oauth2_provider.settings import oauth2_settings

from ..fields import OrderedJSONField
from .apis import ResourceServer


def new_grant_id() -> str:
    """A fresh ``grant_id``: 128 bits of randomness, URL-safe (22 characters)."""
    return secrets.token_urlsafe(16)


class GrantState(models.TextChoices):
    """Where a grant is in its lifecycle; see :data:`TRANSITIONS` for the moves allowed."""

    PENDING = "pending", _("Pending")  # the consent page was shown; the user has not decided
    APPROVED = "approved", _("Approved")  # approved (or no consent needed); no code yet
    CODE_ISSUED = "code_issued", _("Code issued")
    REDEEMED = "redeemed", _("Redeemed")  # a code was exchanged for tokens
    DENIED = "denied", _("Denied")
    REVOKED = "revoked", _("Revoked")
    EXPIRED = "expired", _("Expired")


#: Forward only: each state and the states it may move to. A reusable grant answering a later
#: request issues another code while it stays ``redeemed`` (it never moves back).
TRANSITIONS: dict[str, frozenset[str]] = {
    GrantState.PENDING: frozenset(
        {GrantState.APPROVED, GrantState.DENIED, GrantState.REVOKED, GrantState.EXPIRED}
    ),
    GrantState.APPROVED: frozenset({GrantState.CODE_ISSUED, GrantState.REVOKED, GrantState.EXPIRED}),
    GrantState.CODE_ISSUED: frozenset({GrantState.REDEEMED, GrantState.REVOKED, GrantState.EXPIRED}),
    GrantState.REDEEMED: frozenset({GrantState.REVOKED, GrantState.EXPIRED}),
    GrantState.DENIED: frozenset(),
    GrantState.REVOKED: frozenset(),
    GrantState.EXPIRED: frozenset(),
}
#: States in which a grant may still issue codes and tokens.
USABLE = frozenset({GrantState.APPROVED, GrantState.CODE_ISSUED, GrantState.REDEEMED})


def _space_separated(words) -> str:
    """`` a b `` with a space on each side, so ``contains=" a "`` matches whole words on every database."""
    return f" {' '.join(words)} " if words else ""


#: Grants a user has given (a pending or denied one was never an authorization).
GIVEN = (
    GrantState.APPROVED,
    GrantState.CODE_ISSUED,
    GrantState.REDEEMED,
    GrantState.REVOKED,
    GrantState.EXPIRED,
)


def types_text(details: list[dict]) -> str:
    """The ``types`` column of ``details``: each type once, space-separated with a space each side."""
    return _space_separated(dict.fromkeys(d.get("type", "?") for d in details if isinstance(d, dict)))


class AuthorizationGrantQuerySet(models.QuerySet):
    def given(self):
        """The grants the user approved (every state from ``approved`` on; not pending, not denied)."""
        return self.filter(state__in=GIVEN)

    def live(self, now=None):
        """Usable (approved, code issued or redeemed), not revoked and not past ``expires``."""
        now = now or timezone.now()
        return self.filter(state__in=USABLE, revoked__isnull=True).filter(
            models.Q(expires__isnull=True) | models.Q(expires__gt=now)
        )


class AuthorizationGrant(models.Model):
    """What one user approved for one client (RFC 9396 §3): scopes and authorization_details.

    ``reusable`` is set for an API with the ``standard`` consent policy: a later request that this
    grant covers (the comparison of RFC 9396 §6.1) is then answered without asking again. Grants of
    ``transactional`` APIs are kept for the user's list and for revocation, never reused. While
    ``pending`` the details are the requested ones; from ``approved`` on, the approved ones.
    """

    grant_id = models.CharField(
        _("grant ID"), max_length=64, unique=True, default=new_grant_id, editable=False
    )
    state = models.CharField(
        _("state"), max_length=16, choices=GrantState.choices, default=GrantState.PENDING, editable=False
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="rar_grants",
        verbose_name=_("user"),
    )
    application = models.ForeignKey(
        oauth2_settings.APPLICATION_MODEL,
        on_delete=models.CASCADE,
        related_name="rar_grants",
        verbose_name=_("client"),
    )
    resource_server = models.ForeignKey(
        ResourceServer, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("API")
    )
    scope = models.TextField(_("scope"), blank=True)
    authorization_details = OrderedJSONField(_("authorization details"), default=list, blank=True)
    types = models.TextField(_("types"), blank=True, editable=False)
    reusable = models.BooleanField(
        _("reusable"), default=False, help_text=_("Standard consent policy: may answer later requests.")
    )
    created = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    decided = models.DateTimeField(_("decided"), null=True, blank=True)
    expires = models.DateTimeField(_("expires"), null=True, blank=True)
    revoked = models.DateTimeField(_("revoked"), null=True, blank=True)
    # Kept when the API is deleted (resource_server is then NULL), so the user's list still names it.
    api_name = models.CharField(_("API name"), max_length=200, blank=True, editable=False)
    used = models.DateTimeField(
        _("used"),
        null=True,
        blank=True,
        help_text=_("When a code issued under it was first exchanged for tokens."),
    )

    objects = AuthorizationGrantQuerySet.as_manager()

    class Meta:
        verbose_name = _("grant")
        verbose_name_plural = _("grants")
        ordering = ("-created", "-pk")
        indexes = [
            models.Index(fields=("user", "application", "resource_server"), name="rar_grant_lookup"),
            # "Your authorizations" (newest first) and housekeeping's ended-grant lookups.
            models.Index(fields=("user", "-created"), name="rar_grant_by_user"),
            models.Index(fields=("state",), name="rar_grant_state"),
            models.Index(fields=("revoked",), name="rar_grant_revoked"),
            models.Index(fields=("expires",), name="rar_grant_expires"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(state__in=GrantState.values), name="rar_grant_state_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.application}: {self.types.strip() or self.scope or '-'}"

    def save(self, *args, **kwargs) -> None:
        self.types = types_text(self.authorization_details)
        if self.resource_server_id and not self.api_name:
            self.api_name = self.resource_server.name
        super().save(*args, **kwargs)

    @property
    def scopes(self) -> list[str]:
        return self.scope.split()

    @property
    def detail_types(self) -> list[str]:
        return self.types.split()

    @property
    def is_revoked(self) -> bool:
        return self.revoked is not None or self.state == GrantState.REVOKED

    @property
    def is_expired(self) -> bool:
        return self.state == GrantState.EXPIRED or (
            self.expires is not None and self.expires <= timezone.now()
        )

    @property
    def is_live(self) -> bool:
        return self.state in USABLE and not self.is_revoked and not self.is_expired

    @property
    def is_usable(self) -> bool:
        """May it still issue codes and tokens (its tokens outlive ``expires``; revocation ends them)."""
        return self.state in USABLE and self.revoked is None
