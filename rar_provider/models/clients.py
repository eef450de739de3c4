"""Per-client options: PAR required (RFC 9126 §6), client authentication (RFC 7591 §2
``token_endpoint_auth_method``, RFC 7523), registered public keys, signed request objects
(RFC 9101), and client grants (which types a client may request)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from oauth2_provider.settings import oauth2_settings

from .apis import ResourceServer
from .detail_types import AuthorizationDetailType


class TokenEndpointAuthMethod(models.TextChoices):
    """How a client authenticates at the PAR, token, introspection and revocation endpoints
    (RFC 7591 §2 names; "" keeps DOT's behaviour: a client secret, Basic or in the body)."""

    ANY_SECRET = "", _("client secret, HTTP Basic or in the body (client_secret_basic or client_secret_post)")
    CLIENT_SECRET_BASIC = "client_secret_basic", _("client_secret_basic: client secret, HTTP Basic only")
    CLIENT_SECRET_POST = "client_secret_post", _("client_secret_post: client secret in the body only")
    PRIVATE_KEY_JWT = "private_key_jwt", _("private_key_jwt: a JWT signed with the client's key (RFC 7523)")
    NONE = "none", _("none: a public client, which does not authenticate")


def validate_client_jwks(value: str) -> None:
    """Model validator: a JWK Set of public keys, each with a kid and an allowed alg
    (:func:`rar_provider.client_keys.parse_client_jwks`)."""
    from ..client_keys import ClientKeysError, parse_client_jwks
    from ..conf import rar_settings

    if not (value or "").strip():
        return
    allowed = {*rar_settings.CLIENT_ASSERTION_SIGNING_ALGS, *rar_settings.REQUEST_OBJECT_SIGNING_ALGS}
    try:
        parse_client_jwks(value, allowed)
    except ClientKeysError as exc:
        raise ValidationError(str(exc), code="invalid_jwks") from None


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
    token_endpoint_auth_method = models.CharField(
        _("client authentication method"),
        max_length=32,
        blank=True,
        default=TokenEndpointAuthMethod.ANY_SECRET,
        choices=TokenEndpointAuthMethod.choices,
        help_text=_(
            "How this client authenticates at the PAR, token, introspection and revocation endpoints; "
            "any other method is refused. private_key_jwt needs the public keys below and a confidential "
            "client; its client secret is then refused."
        ),
    )
    jwks = models.TextField(
        _("public keys (JWK Set)"),
        blank=True,
        default="",
        validators=[validate_client_jwks],
        help_text=_(
            'The client\'s public keys as a JWK Set, {"keys": [...]}: each with a kid and an alg this '
            "server accepts (PS256, ES256, EdDSA by default). They verify its client assertions "
            "(private_key_jwt) and signed request objects. Never paste a private key."
        ),
    )
    require_signed_request_object = models.BooleanField(
        _("require signed request objects"),
        default=False,
        help_text=_(
            "Refuse pushed authorization requests from this client without a request object signed "
            "with one of its keys (RFC 9101); implies PAR required."
        ),
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("client policy")
        verbose_name_plural = _("client policies")

    def __str__(self) -> str:
        return str(self.application)

    def save(self, *args, **kwargs):
        """Whatever writes the policy, a private or symmetric key never reaches the database."""
        validate_client_jwks(self.jwks)
        super().save(*args, **kwargs)

    def clean(self):
        """The method fits the client's type, and keys are there when they are needed."""
        super().clean()
        application = getattr(self, "application", None) if self.application_id else None
        client_type = getattr(application, "client_type", None)
        errors = {}
        method = self.token_endpoint_auth_method
        if method == TokenEndpointAuthMethod.PRIVATE_KEY_JWT and not (self.jwks or "").strip():
            errors["jwks"] = _("private_key_jwt needs the client's public keys.")
        if self.require_signed_request_object and not (self.jwks or "").strip():
            errors["jwks"] = _("Signed request objects need the client's public keys.")
        if client_type == "public" and method not in ("", TokenEndpointAuthMethod.NONE):
            errors["token_endpoint_auth_method"] = _(
                "This client is public: it has no credentials; choose none (or make it confidential)."
            )
        if client_type == "confidential" and method == TokenEndpointAuthMethod.NONE:
            errors["token_endpoint_auth_method"] = _(
                "This client is confidential: it must authenticate; none is for public clients."
            )
        if errors:
            raise ValidationError(errors)


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
