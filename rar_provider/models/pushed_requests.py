"""Pushed authorization requests (RFC 9126 §2), stored by the SHA-256 of their request_uri."""

from __future__ import annotations

import hashlib

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from oauth2_provider.settings import oauth2_settings

from ..fields import OrderedJSONField
from .apis import ResourceServer


def sha256_hex(value: str) -> str:
    """SHA-256 of a secret (request_uri, code, token) as hex: what is stored or looked up instead of it."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def hash_reference(reference: str) -> str:
    """SHA-256 of a request_uri: only this is stored (RFC 9126 §7.1)."""
    return sha256_hex(reference)


class PushedAuthorizationRequest(models.Model):
    """An authorization request pushed to the PAR endpoint (RFC 9126 §2)."""

    reference_hash = models.CharField(_("request_uri hash"), max_length=64, unique=True, editable=False)
    application = models.ForeignKey(
        oauth2_settings.APPLICATION_MODEL,
        on_delete=models.CASCADE,
        related_name="rar_pushed_requests",
        verbose_name=_("client"),
    )
    resource_server = models.ForeignKey(
        ResourceServer, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("API")
    )
    parameters = OrderedJSONField(
        _("parameters"), help_text=_("The validated authorization request, as [name, value] pairs.")
    )
    authorization_details = OrderedJSONField(_("authorization details"), default=list, blank=True)
    created_at = models.DateTimeField(_("pushed at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"), db_index=True)
    consumed_at = models.DateTimeField(_("used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("pushed authorization request")
        verbose_name_plural = _("pushed authorization requests")
        ordering = ("-created_at",)

    def __str__(self) -> str:
        return f"PAR #{self.pk} for {self.application}"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def detail_types(self) -> list[str]:
        return [d.get("type", "?") for d in self.authorization_details]
