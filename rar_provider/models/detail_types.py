"""The ``authorization_details`` types an API registers (RFC 9396 §2), and how consent shows them."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from ..details.schema import check_schema_is_valid
from ..fields import OrderedJSONField
from ..partials import validate_template_name
from .apis import ResourceServer


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
