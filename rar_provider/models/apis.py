"""APIs (resource servers) and their policies: who may request what, and how tokens look.

RFC 9396 §2: an API registers the ``authorization_details`` types it understands; RFC 8707: its
identifier is the ``resource`` / ``audience`` tokens are bound to.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import models
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from oauth2_provider.settings import oauth2_settings

from ..access_tokens import CONTENT_ENCRYPTION_ALGS, KEY_ENCRYPTION_ALGS, load_public_key
from ..keys import signing_keys


class AccessPolicy(models.TextChoices):
    """Who may request an API's types (the reference product's ``subject_type_authorization``).

    Labels are short (list pages and filters show them); the fields' help texts explain them.
    """

    ALLOW_ALL = "allow_all", _("Allow all")
    REQUIRE_CLIENT_GRANT = "require_client_grant", _("Client grant required")
    DENY_ALL = "deny_all", _("Deny all")


class ConsentPolicy(models.TextChoices):
    STANDARD = "standard", _("Standard")
    TRANSACTIONAL = "transactional", _("Transactional")


class AccessTokenFormat(models.TextChoices):
    """What an API's access tokens look like (the reference product's ``token_format``)."""

    OPAQUE = "opaque", _("Opaque")
    JWT = "jwt", _("JWT")
    JWE = "jwe", _("JWE")


#: The help text of both access policy fields: what each short choice label means.
ACCESS_POLICY_HELP = _(
    "Allow all: every client may request every enabled type. Client grant required: only the types "
    "the client's grant for this API lists. Deny all: no client may request this API's types."
)


class ResourceServer(models.Model):
    """An API that clients request access to (RFC 9396 §2: the types live here)."""

    name = models.CharField(_("name"), max_length=200)
    identifier = models.CharField(
        _("identifier"),
        max_length=255,
        unique=True,
        help_text=_("The audience / resource indicator clients use, e.g. urn:example:payments."),
    )
    description = models.TextField(_("description"), blank=True)
    user_access_policy = models.CharField(
        _("user access policy"),
        max_length=32,
        choices=AccessPolicy.choices,
        default=AccessPolicy.ALLOW_ALL,
        help_text=format_lazy(
            "{} {}",
            _("Applies to requests made on behalf of a user (authorization code flow)."),
            ACCESS_POLICY_HELP,
        ),
    )
    client_access_policy = models.CharField(
        _("client access policy"),
        max_length=32,
        choices=AccessPolicy.choices,
        default=AccessPolicy.REQUIRE_CLIENT_GRANT,
        help_text=format_lazy(
            "{} {}",
            _("Applies to requests a client makes for itself (client credentials flow)."),
            ACCESS_POLICY_HELP,
        ),
    )
    consent_policy = models.CharField(
        _("consent policy"),
        max_length=32,
        choices=ConsentPolicy.choices,
        default=ConsentPolicy.STANDARD,
        help_text=_(
            "Standard: a stored consent that covers a later request answers it without asking again. "
            "Transactional: every request is consented afresh, and each consent is used once (payments)."
        ),
    )
    access_token_format = models.CharField(
        _("access token format"),
        max_length=16,
        choices=AccessTokenFormat.choices,
        default=AccessTokenFormat.OPAQUE,
        help_text=_(
            "Opaque: a random string; the API introspects it (RFC 7662). JWT: signed by this server "
            "(RFC 9068), verified by the API with the JWKS. JWE: the signed JWT encrypted to the API's "
            "public key (RFC 7516)."
        ),
    )
    encryption_key = models.TextField(
        _("encryption public key"),
        blank=True,
        help_text=_(
            "For JWE tokens: the API's public key, as a JWK (JSON) or PEM. "
            "Only the API's holder of the private key can read its tokens."
        ),
    )
    encryption_alg = models.CharField(
        _("key encryption algorithm"),
        max_length=32,
        choices=[(alg, alg) for alg in KEY_ENCRYPTION_ALGS],
        default="RSA-OAEP-256",
    )
    encryption_enc = models.CharField(
        _("content encryption algorithm"),
        max_length=32,
        choices=[(enc, enc) for enc in CONTENT_ENCRYPTION_ALGS],
        default="A256GCM",
    )
    allow_partial_approval = models.BooleanField(
        _("allow partial approval"),
        default=False,
        help_text=_(
            "The consent page lets the user untick some of the requested entries; the code and tokens "
            "then carry only the approved ones."
        ),
    )
    fapi_2_0 = models.BooleanField(
        _("FAPI 2.0 Security Profile"),
        default=False,
        help_text=_(
            "Requests and tokens of this API follow the FAPI 2.0 Security Profile: pushed requests only, "
            "private_key_jwt clients, PKCE S256, https redirect URIs, DPoP-bound tokens, no refresh token "
            "rotation (docs/fapi.md)."
        ),
    )
    check_revocation = models.BooleanField(
        _("refuse revoked tokens at once"),
        default=False,
        help_text=_(
            "The API's guard (rar_provider.drf, in this project) asks whether each JWT is still live "
            "before acting: a revoked consent, a revoked token or a replayed code is refused at once "
            "instead of at the token's expiry. One database query per API request."
        ),
    )
    introspection_clients = models.ManyToManyField(
        oauth2_settings.APPLICATION_MODEL,
        blank=True,
        related_name="rar_introspected_apis",
        verbose_name=_("resource server clients"),
        help_text=_(
            "The clients this API authenticates with at the introspection endpoint: only they (and a "
            "token's own client) learn anything about this API's tokens (RFC 7662 §4)."
        ),
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("API (resource server)")
        verbose_name_plural = _("APIs (resource servers)")
        ordering = ("name",)

    def __str__(self) -> str:
        return f"{self.name} ({self.identifier})"

    def clean(self) -> None:
        """A JWT/JWE API needs a signing key; a JWE API a readable public key that fits its algorithm."""
        super().clean()
        if self.issues_jwt:
            try:
                has_keys = bool(signing_keys())
            except ImproperlyConfigured as exc:
                raise ValidationError({"access_token_format": str(exc)}) from exc
            if not has_keys:
                raise ValidationError(
                    {
                        "access_token_format": _(
                            "No signing key is configured (RAR_PROVIDER['SIGNING_KEYS']); "
                            "create one with manage.py rar_generate_key first."
                        )
                    }
                )
        if self.access_token_format == AccessTokenFormat.JWE or self.encryption_key.strip():
            try:
                key = load_public_key(self.encryption_key)
            except ValueError as exc:
                raise ValidationError(
                    {"encryption_key": _("Encryption key: %(problem)s.") % {"problem": exc}}
                ) from exc
            if key.has_private:
                raise ValidationError(
                    {"encryption_key": _("This is a private key: register the API's public key only.")}
                )
            wants = "RSA" if self.encryption_alg.startswith("RSA") else "EC"
            if key.get("kty") != wants:
                raise ValidationError(
                    {
                        "encryption_alg": _("%(alg)s needs an %(kty)s key; the registered key is %(has)s.")
                        % {"alg": self.encryption_alg, "kty": wants, "has": key.get("kty")}
                    }
                )

    @property
    def issues_jwt(self) -> bool:
        return self.access_token_format in (AccessTokenFormat.JWT, AccessTokenFormat.JWE)
