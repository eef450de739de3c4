"""Per-client options: PAR required (RFC 9126 §6) and client grants (which types a client may request)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from oauth2_provider.settings import oauth2_settings

from .apis import ResourceServer
from .detail_types import AuthorizationDetailType


class ClientPolicy(models.Model):
    """Our per-client options (kept off DOT's Application so nothing clashes with DOT's own PAR)."""

    application = models.OneToOneField(
        oauth2_settings.APPLICATION_MODEL,
        on_delete=models.CASCADE,
        related_name="rar_policy",
        verbose_name=_("client"),
    )
    require_pushed_authorization_requests = models.BooleanField(
        _("require pushed authorization requests"),
        default=False,
        help_text=_("Refuse authorization requests from this client that did not come through PAR."),
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("client policy")
        verbose_name_plural = _("client policies")

    def __str__(self) -> str:
        return str(self.application)


class ClientGrant(models.Model):
    """The types of one API a client may request (used by ``require_client_grant``)."""

    policy = models.ForeignKey(ClientPolicy, on_delete=models.CASCADE, related_name="grants")
    resource_server = models.ForeignKey(
        ResourceServer, on_delete=models.CASCADE, related_name="client_grants", verbose_name=_("API")
    )
    detail_types = models.ManyToManyField(
        AuthorizationDetailType,
        blank=True,
        related_name="client_grants",
        verbose_name=_("allowed types"),
        through="ClientGrantType",
    )

    class Meta:
        verbose_name = _("client grant")
        verbose_name_plural = _("client grants")
        constraints = [
            models.UniqueConstraint(
                fields=("policy", "resource_server"), name="rar_one_grant_per_client_api"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.policy} → {self.resource_server.identifier}"


class ClientGrantType(models.Model):
    """One type a client grant allows (the grant's many-to-many row, named so admin pages read well).

    Its columns are those of the table Django made for the plain many-to-many field before.
    """

    client_grant = models.ForeignKey(
        ClientGrant, on_delete=models.CASCADE, db_column="clientgrant_id", verbose_name=_("client grant")
    )
    detail_type = models.ForeignKey(
        AuthorizationDetailType,
        on_delete=models.CASCADE,
        db_column="authorizationdetailtype_id",
        verbose_name=_("type"),
    )

    class Meta:
        db_table = "rar_provider_clientgrant_detail_types"
        verbose_name = _("type allowed to a client")
        verbose_name_plural = _("types allowed to clients")
        unique_together = [("client_grant", "detail_type")]

    def __str__(self) -> str:
        return _("%(client)s may request %(type)s") % {
            "client": self.client_grant.policy,
            "type": self.detail_type.type,
        }
