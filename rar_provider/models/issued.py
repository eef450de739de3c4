"""Codes and tokens issued under a grant, and redeemed codes (RFC 6749 §4.1.2, RFC 9396 §6–§7).

Each row points at its :class:`~rar_provider.models.grants.AuthorizationGrant` and records what the
code or token carries (the grant's details, or the subset a narrower request asked for).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from oauth2_provider.settings import oauth2_settings

from ..fields import OrderedJSONField
from .apis import ResourceServer
from .grants import AuthorizationGrant


def dpop_key_field(help_text: str) -> models.CharField:
    """The RFC 7638 SHA-256 thumbprint (``jkt``, base64url) of a DPoP key (RFC 9449); blank: none."""
    return models.CharField(
        _("DPoP key thumbprint"), max_length=64, blank=True, default="", editable=False, help_text=help_text
    )


class IssuedCode(models.Model):
    """An authorization code (DOT's ``Grant`` row) issued under a grant, and what it carries.

    A code carries its grant's details, or — when a stored grant answered a narrower request
    (:mod:`rar_provider.grants.reuse`) — the requested subset of them.
    """

    code = models.OneToOneField(
        oauth2_settings.GRANT_MODEL, on_delete=models.CASCADE, related_name="rar_issued"
    )
    grant = models.ForeignKey(AuthorizationGrant, on_delete=models.CASCADE, related_name="codes")
    authorization_details = OrderedJSONField(_("authorization details"), default=list)
    one_time_only = models.BooleanField(
        _("one-time entries only"),
        default=False,
        help_text=_("Every entry it carries is of a one-time type: its tokens get no refresh token."),
    )
    dpop_jkt = dpop_key_field(
        _("The authorization request's dpop_jkt: the code is exchanged only with a proof of this key.")
    )

    class Meta:
        verbose_name = _("authorization code issued")
        verbose_name_plural = _("authorization codes issued")

    def __str__(self) -> str:
        types = ", ".join(dict.fromkeys(d.get("type", "?") for d in self.authorization_details))
        return f"code #{self.code_id} under grant #{self.grant_id}: {types or '-'}"

    @property
    def resource_server(self):
        return self.grant.resource_server


class IssuedAccessToken(models.Model):
    """An access token's ``authorization_details`` (RFC 9396 §7) and the grant it comes from.

    A narrowed token (RFC 9396 §6) carries a subset of its grant: ``grant_entries`` gives, for each
    entry, its position in the grant. A client credentials token (RFC 9396 §6.2) has no grant.
    """

    access_token = models.OneToOneField(
        oauth2_settings.ACCESS_TOKEN_MODEL, on_delete=models.CASCADE, related_name="rar_issued"
    )
    grant = models.ForeignKey(
        AuthorizationGrant, null=True, blank=True, on_delete=models.CASCADE, related_name="access_tokens"
    )
    resource_server = models.ForeignKey(
        ResourceServer, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("API")
    )
    authorization_details = OrderedJSONField(_("authorization details"), default=list)
    grant_entries = OrderedJSONField(_("grant entries"), default=list, blank=True)
    dpop_jkt = dpop_key_field(_("The DPoP key the token is bound to (cnf.jkt); blank: a bearer token."))

    class Meta:
        verbose_name = _("access token issued")
        verbose_name_plural = _("access tokens issued")

    def __str__(self) -> str:
        types = ", ".join(d.get("type", "?") for d in self.authorization_details)
        return f"access token #{self.access_token_id}: {types or '-'}"


class IssuedRefreshToken(models.Model):
    """A refresh token issued under a grant, and what it carries: what its code carried, whole, even
    when the access tokens minted with it are narrower (RFC 9396 §6)."""

    refresh_token = models.OneToOneField(
        oauth2_settings.REFRESH_TOKEN_MODEL, on_delete=models.CASCADE, related_name="rar_issued"
    )
    grant = models.ForeignKey(AuthorizationGrant, on_delete=models.CASCADE, related_name="refresh_tokens")
    authorization_details = OrderedJSONField(_("authorization details"), default=list)
    dpop_jkt = dpop_key_field(
        _(
            "Issued with this DPoP key: it is used with a DPoP proof, of this key for a public client "
            "(RFC 9449 §5)."
        )
    )

    class Meta:
        verbose_name = _("refresh token issued")
        verbose_name_plural = _("refresh tokens issued")

    def __str__(self) -> str:
        types = ", ".join(dict.fromkeys(d.get("type", "?") for d in self.authorization_details))
        return f"refresh token #{self.refresh_token_id} under grant #{self.grant_id}: {types or '-'}"

    @property
    def resource_server(self):
        return self.grant.resource_server


class CodeRedemption(models.Model):
    """An authorization code that was exchanged, kept after DOT deletes its row.

    RFC 6749 §4.1.2 / RFC 9700 §4.5: a code used twice is refused, and what was issued from it is
    revoked: its whole grant when it had one, else the access token and refresh token family it
    produced (a code from DOT's own view). Only the code's SHA-256 is kept.
    """

    code_hash = models.CharField(_("code hash"), max_length=64, unique=True, editable=False)
    application = models.ForeignKey(
        oauth2_settings.APPLICATION_MODEL, on_delete=models.CASCADE, verbose_name=_("client")
    )
    grant = models.ForeignKey(
        AuthorizationGrant,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="redemptions",
        verbose_name=_("grant"),
    )
    access_token = models.ForeignKey(
        oauth2_settings.ACCESS_TOKEN_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("access token"),
    )
    token_family = models.UUIDField(_("refresh token family"), null=True, blank=True)
    redeemed_at = models.DateTimeField(_("redeemed at"), default=timezone.now)
    replayed_at = models.DateTimeField(_("replayed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("redeemed authorization code")
        verbose_name_plural = _("redeemed authorization codes")
        ordering = ("-redeemed_at",)
        indexes = [models.Index(fields=("redeemed_at",), name="rar_redemption_redeemed_at")]

    def __str__(self) -> str:
        return f"code {self.code_hash[:12]}… of {self.application_id}"
