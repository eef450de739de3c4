"""Models: APIs and their authorization_details types, client policy, pushed
requests, and the details stored with codes and tokens.

DOT models are referenced through DOT's swappable settings
(``oauth2_settings.APPLICATION_MODEL`` …), as DOT's own migrations do.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import models
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from oauth2_provider.settings import oauth2_settings

from .access_tokens import CONTENT_ENCRYPTION_ALGS, KEY_ENCRYPTION_ALGS, load_public_key
from .details.schema import check_schema_is_valid
from .fields import OrderedJSONField
from .keys import signing_keys
from .partials import validate_template_name


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


class AuthorizationDetailType(models.Model):
    """A registered ``authorization_details`` type of one API, with its JSON Schema."""

    resource_server = models.ForeignKey(
        ResourceServer, on_delete=models.CASCADE, related_name="detail_types", verbose_name=_("API")
    )
    type = models.CharField(
        _("type"),
        max_length=255,
        help_text=_("Compared exactly, case included (RFC 9396 §2), e.g. payment_initiation."),
    )
    label = models.CharField(_("label"), max_length=200, blank=True, help_text=_("Shown to end users."))
    description = models.TextField(_("description"), blank=True)
    json_schema = OrderedJSONField(
        _("JSON Schema"),
        default=dict,
        blank=True,
        help_text=_(
            "Every detail of this type must validate against it (draft 2020-12 unless $schema says "
            "otherwise). {} accepts any object."
        ),
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    one_time = models.BooleanField(
        _("one-time"),
        default=False,
        help_text=_(
            "Each approved entry of this type is used once (a payment): a grant holding only one-time "
            "entries gets no refresh token. (Tokens always say which approval and entry they carry, "
            "so an API can execute each entry once per approval.)"
        ),
    )
    template_name = models.CharField(
        _("consent template"),
        max_length=200,
        blank=True,
        validators=[validate_template_name],
        help_text=_(
            "Optional: the template (a file in your project's templates) that shows this type on the "
            "consent page, e.g. myproject/details/transfer.html. Empty: rar_provider/details/<type>.html "
            "if it exists, else the built-in partials."
        ),
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("authorization details type")
        verbose_name_plural = _("authorization details types")
        ordering = ("resource_server__name", "type")
        constraints = [
            models.UniqueConstraint(fields=("resource_server", "type"), name="rar_unique_type_per_api"),
        ]

    def __str__(self) -> str:
        return self.type

    def save(self, *args, **kwargs) -> None:
        # Refuse a new or changed invalid schema wherever the save comes from (admin,
        # shell, code). An unchanged stored one does not block saving other fields,
        # e.g. disabling the type whose schema is broken.
        if self.pk is None or self.json_schema != getattr(self, "_stored_schema", None):
            try:
                check_schema_is_valid(self.json_schema)
            except ValueError as exc:
                raise ValidationError(f"{self.type}: this is not a valid JSON Schema: {exc}") from exc
        super().save(*args, **kwargs)

    @classmethod
    def from_db(cls, db, field_names, values):
        instance = super().from_db(db, field_names, values)
        instance._stored_schema = instance.__dict__.get("json_schema")
        return instance

    def clean_fields(self, exclude=None) -> None:
        # Checked here, not in clean(): a form without the json_schema field (the API
        # page's inline) must still save, e.g. to disable a type whose schema is broken.
        errors = {}
        try:
            super().clean_fields(exclude)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        if not exclude or "json_schema" not in exclude:
            try:
                check_schema_is_valid(self.json_schema)
            except ValueError as exc:
                errors.setdefault("json_schema", []).append(
                    ValidationError(
                        _("This is not a valid JSON Schema: %(problem)s"), params={"problem": exc}
                    )
                )
        if errors:
            raise ValidationError(errors)

    def clean(self) -> None:
        super().clean()
        if self.template_name:
            from django.template import TemplateDoesNotExist
            from django.template.loader import get_template

            try:
                get_template(self.template_name)
            except TemplateDoesNotExist as exc:
                raise ValidationError(
                    {
                        "template_name": _("There is no template named %(name)s.")
                        % {"name": self.template_name}
                    }
                ) from exc

    @property
    def display_label(self) -> str:
        return self.label or self.type


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


class IssuedDetails(models.Model):
    """``authorization_details`` granted to a code or token (RFC 9396 §7).

    ``grant_identifier`` (the ``grant_id`` claim) names the approval they come from: one per
    authorization code, kept by every token minted from it (refreshed ones included), so a resource
    server can execute an entry once per approval whatever the token (FAPI Grant Management's
    ``grant_id``; :mod:`rar_provider.grants`).
    """

    resource_server = models.ForeignKey(
        ResourceServer, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("API")
    )
    authorization_details = OrderedJSONField(_("authorization details"), default=list)
    #: The ``grant_id`` claim (named so as not to clash with CodeDetails.grant's column, ``grant_id``).
    grant_identifier = models.CharField(
        _("grant ID"), max_length=64, blank=True, db_index=True, editable=False
    )

    class Meta:
        abstract = True

    def __str__(self) -> str:
        types = ", ".join(d.get("type", "?") for d in self.authorization_details)
        return f"{self._meta.verbose_name} #{self.pk}: {types}"


class CodeDetails(IssuedDetails):
    grant = models.OneToOneField(
        oauth2_settings.GRANT_MODEL, on_delete=models.CASCADE, related_name="rar_details"
    )

    class Meta:
        verbose_name = _("authorization code details")
        verbose_name_plural = _("authorization code details")


class AccessTokenDetails(IssuedDetails):
    access_token = models.OneToOneField(
        oauth2_settings.ACCESS_TOKEN_MODEL, on_delete=models.CASCADE, related_name="rar_details"
    )
    #: For each entry of ``authorization_details``, its position in the grant (narrowing keeps a subset).
    grant_entries = OrderedJSONField(_("grant entries"), default=list, blank=True)

    class Meta:
        verbose_name = _("access token details")
        verbose_name_plural = _("access token details")


class RefreshTokenDetails(IssuedDetails):
    refresh_token = models.OneToOneField(
        oauth2_settings.REFRESH_TOKEN_MODEL, on_delete=models.CASCADE, related_name="rar_details"
    )

    class Meta:
        verbose_name = _("refresh token details")
        verbose_name_plural = _("refresh token details")


class CodeRedemption(models.Model):
    """An authorization code that was exchanged, kept after DOT deletes its grant.

    RFC 6749 §4.1.2 / RFC 9700 §4.5: a code used twice is refused, and the tokens
    issued from it are revoked. Only the code's SHA-256 is kept.
    """

    code_hash = models.CharField(_("code hash"), max_length=64, unique=True, editable=False)
    application = models.ForeignKey(
        oauth2_settings.APPLICATION_MODEL, on_delete=models.CASCADE, verbose_name=_("client")
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


class ConsentDecision(models.Model):
    """A consent page's decision, recorded once: a replayed consent form is refused (issue 9).

    Each rendered consent page signs a random decision id into its
    ``transaction``; only the id's SHA-256 is kept, and only while the page
    could still be posted (``CONSENT_MAX_AGE``; ``rar_clear_expired`` deletes older ones).
    """

    decision_hash = models.CharField(_("decision hash"), max_length=64, unique=True, editable=False)
    decided_at = models.DateTimeField(_("decided at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("consent decision")
        verbose_name_plural = _("consent decisions")

    def __str__(self) -> str:
        return f"decision {self.decision_hash[:12]}…"


class DisplayField(models.Model):
    """One field an operator chose to show, in order, with its label (presentation without code).

    The generic partial shows the top-level fields listed here, in ``position``
    order, under these labels; a dotted ``field`` (``creditorAccount.iban``)
    only relabels a nested value. Labels are plain text: templates escape them.
    """

    detail_type = models.ForeignKey(
        AuthorizationDetailType,
        on_delete=models.CASCADE,
        related_name="display_fields",
        verbose_name=_("type"),
    )
    position = models.PositiveIntegerField(_("position"), default=0)
    field = models.CharField(
        _("field"),
        max_length=255,
        help_text=_(
            "A property name (instructedAmount) or a dotted path to a nested one (creditorAccount.iban)."
        ),
    )
    label = models.CharField(
        _("label"), max_length=200, blank=True, help_text=_("Empty: made from the name.")
    )

    class Meta:
        verbose_name = _("field shown on the consent page")
        verbose_name_plural = _("fields shown on the consent page")
        ordering = ("detail_type", "position", "pk")
        constraints = [
            models.UniqueConstraint(fields=("detail_type", "field"), name="rar_unique_display_field"),
        ]

    def __str__(self) -> str:
        return self.label or self.field


def _space_separated(words) -> str:
    """`` a b `` with a space on each side, so ``contains=" a "`` matches whole words on every database."""
    return f" {' '.join(words)} " if words else ""


class ConsentQuerySet(models.QuerySet):
    def live(self, now=None):
        """Not revoked and not expired."""
        now = now or timezone.now()
        return self.filter(revoked__isnull=True).filter(
            models.Q(expires__isnull=True) | models.Q(expires__gt=now)
        )


class Consent(models.Model):
    """What one user approved for one client (RFC 9396 §3): scopes and authorization_details.

    ``reusable`` is set for an API with the ``standard`` consent policy: a later
    request that this consent covers (the comparison of RFC 9396 §6.1) is then
    answered without asking again. Consents of ``transactional`` APIs are kept
    for the user's list and for revocation, never reused.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="rar_consents",
        verbose_name=_("user"),
    )
    application = models.ForeignKey(
        oauth2_settings.APPLICATION_MODEL,
        on_delete=models.CASCADE,
        related_name="rar_consents",
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

    objects = ConsentQuerySet.as_manager()

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        ordering = ("-created", "-pk")
        indexes = [
            models.Index(fields=("user", "application", "resource_server"), name="rar_consent_lookup"),
            # "Your authorizations" (newest first) and housekeeping's ended-consent lookups.
            models.Index(fields=("user", "-created"), name="rar_consent_by_user"),
            models.Index(fields=("revoked",), name="rar_consent_revoked"),
            models.Index(fields=("expires",), name="rar_consent_expires"),
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.application}: {self.types.strip() or self.scope or '-'}"

    def save(self, *args, **kwargs) -> None:
        self.types = _space_separated(
            dict.fromkeys(d.get("type", "?") for d in self.authorization_details if isinstance(d, dict))
        )
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
        return self.revoked is not None

    @property
    def is_expired(self) -> bool:
        return self.expires is not None and self.expires <= timezone.now()

    @property
    def is_live(self) -> bool:
        return not self.is_revoked and not self.is_expired


class ConsentIssue(models.Model):
    """A code, access token or refresh token issued under a consent (so revoking the consent revokes it)."""

    consent = models.ForeignKey(Consent, on_delete=models.CASCADE, related_name="issued")
    grant = models.OneToOneField(
        oauth2_settings.GRANT_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="rar_consent_issue",
    )
    access_token = models.OneToOneField(
        oauth2_settings.ACCESS_TOKEN_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="rar_consent_issue",
    )
    refresh_token = models.OneToOneField(
        oauth2_settings.REFRESH_TOKEN_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="rar_consent_issue",
    )

    class Meta:
        verbose_name = _("code or token issued under a consent")
        verbose_name_plural = _("codes and tokens issued under consents")

    def __str__(self) -> str:
        kind = "code" if self.grant_id else "access token" if self.access_token_id else "refresh token"
        return f"{kind} under consent #{self.consent_id}"
