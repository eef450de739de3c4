"""Admin screens an operator uses to register APIs and types, set client policy and
look at pushed requests and the details carried by codes and tokens."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .models import (
    AccessTokenDetails,
    AuthorizationDetailType,
    ClientGrant,
    ClientPolicy,
    CodeRedemption,
    Consent,
    ConsentIssue,
    DisplayField,
    PushedAuthorizationRequest,
    RefreshTokenDetails,
    ResourceServer,
)


def _pretty_json(value) -> str:
    return format_html("<pre style='white-space:pre-wrap'>{}</pre>", json.dumps(value, indent=2))


class AuthorizationDetailTypeInline(admin.TabularInline):
    model = AuthorizationDetailType
    fields = ("type", "label", "enabled")
    extra = 0
    show_change_link = True


@admin.register(ResourceServer)
class ResourceServerAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "identifier",
        "user_access_policy",
        "client_access_policy",
        "consent_policy",
        "access_token_format",
        "allow_partial_approval",
        "type_count",
    )
    list_filter = (
        "user_access_policy",
        "client_access_policy",
        "consent_policy",
        "allow_partial_approval",
        "access_token_format",
    )
    search_fields = ("name", "identifier", "description")
    inlines = [AuthorizationDetailTypeInline]
    fieldsets = (
        (None, {"fields": ("name", "identifier", "description")}),
        (_("Who may request its types"), {"fields": ("user_access_policy", "client_access_policy")}),
        (_("Consent"), {"fields": ("consent_policy", "allow_partial_approval")}),
        (
            _("Access tokens"),
            {
                "fields": ("access_token_format", "encryption_key", "encryption_alg", "encryption_enc"),
                "description": _(
                    "JWT tokens are signed with this server's newest key (published at the JWKS URL). "
                    "JWE tokens are also encrypted to the API's public key; the token response then "
                    "shows clients only each detail's type."
                ),
            },
        ),
        (_("Introspection"), {"fields": ("introspection_clients",)}),
    )
    filter_horizontal = ("introspection_clients",)

    @admin.display(description=_("types"))
    def type_count(self, obj) -> int:
        return obj.detail_types.count()


class DisplayFieldInline(admin.TabularInline):
    """Presentation without code: the fields the generic partial shows, in order, with their labels."""

    model = DisplayField
    fields = ("position", "field", "label")
    extra = 0
    verbose_name_plural = _(
        "Fields shown on the consent page (in this order; none listed: every field, labelled from its name)"
    )


@admin.register(AuthorizationDetailType)
class AuthorizationDetailTypeAdmin(admin.ModelAdmin):
    list_display = ("type", "label", "resource_server", "enabled", "updated")
    list_filter = ("enabled", "resource_server")
    search_fields = ("type", "label", "description", "resource_server__identifier")
    list_select_related = ("resource_server",)
    fieldsets = (
        (None, {"fields": ("resource_server", "type", "enabled")}),
        (_("Shown to end users"), {"fields": ("label", "description", "template_name")}),
        (_("Validation"), {"fields": ("json_schema",)}),
    )
    inlines = [DisplayFieldInline]


class ClientGrantForm(forms.ModelForm):
    class Meta:
        model = ClientGrant
        fields = ("resource_server", "detail_types")

    def clean(self):
        cleaned = super().clean()
        api = cleaned.get("resource_server")
        foreign = [t for t in cleaned.get("detail_types") or [] if api and t.resource_server_id != api.pk]
        if foreign:
            names = ", ".join(f"{t.type} ({t.resource_server.identifier})" for t in foreign)
            raise forms.ValidationError(
                {"detail_types": _("These types belong to another API: %(names)s") % {"names": names}}
            )
        return cleaned


class ClientGrantInline(admin.StackedInline):
    model = ClientGrant
    form = ClientGrantForm
    extra = 0
    filter_horizontal = ("detail_types",)


@admin.register(ClientPolicy)
class ClientPolicyAdmin(admin.ModelAdmin):
    list_display = ("application", "require_pushed_authorization_requests", "granted_apis", "updated")
    list_filter = ("require_pushed_authorization_requests",)
    search_fields = ("application__name", "application__client_id")
    raw_id_fields = ("application",)
    inlines = [ClientGrantInline]

    @admin.display(description=_("APIs granted"))
    def granted_apis(self, obj) -> str:
        return ", ".join(g.resource_server.identifier for g in obj.grants.select_related("resource_server"))


class StateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return (("pending", _("Pending")), ("used", _("Used")), ("expired", _("Expired, unused")))

    def queryset(self, request, queryset):
        from django.utils import timezone

        now = timezone.now()
        if self.value() == "pending":
            return queryset.filter(consumed_at__isnull=True, expires_at__gt=now)
        if self.value() == "used":
            return queryset.filter(consumed_at__isnull=False)
        if self.value() == "expired":
            return queryset.filter(consumed_at__isnull=True, expires_at__lte=now)
        return queryset


@admin.register(PushedAuthorizationRequest)
class PushedAuthorizationRequestAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "application",
        "resource_server",
        "types",
        "created_at",
        "expires_at",
        "consumed_at",
    )
    list_filter = (StateFilter, "resource_server", "application")
    search_fields = ("application__name", "application__client_id", "reference_hash")
    list_select_related = ("application", "resource_server")
    date_hierarchy = "created_at"
    readonly_fields = (
        "reference_hash",
        "application",
        "resource_server",
        "parameters_pretty",
        "details_pretty",
        "created_at",
        "expires_at",
        "consumed_at",
    )
    exclude = ("parameters", "authorization_details")

    @admin.display(description=_("types"))
    def types(self, obj) -> str:
        return ", ".join(obj.detail_types)

    @admin.display(description=_("parameters"))
    def parameters_pretty(self, obj) -> str:
        return _pretty_json(obj.parameters)

    @admin.display(description=_("authorization details"))
    def details_pretty(self, obj) -> str:
        return _pretty_json(obj.authorization_details)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class IssuedDetailsAdmin(admin.ModelAdmin):
    list_filter = ("resource_server",)
    readonly_fields = ("resource_server", "details_pretty")
    exclude = ("authorization_details",)

    @admin.display(description=_("authorization details"))
    def details_pretty(self, obj) -> str:
        return _pretty_json(obj.authorization_details)

    @admin.display(description=_("types"))
    def types(self, obj) -> str:
        return ", ".join(d.get("type", "?") for d in obj.authorization_details)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(CodeRedemption)
class CodeRedemptionAdmin(admin.ModelAdmin):
    """Read-only: which codes were exchanged, and which were replayed (RFC 6749 §4.1.2)."""

    list_display = ("code_hash_prefix", "application", "redeemed_at", "replayed_at")
    list_filter = (("replayed_at", admin.EmptyFieldListFilter), "application")
    list_select_related = ("application",)
    fields = ("code_hash", "application", "access_token", "token_family", "redeemed_at", "replayed_at")
    readonly_fields = fields

    @admin.display(description=_("code hash"))
    def code_hash_prefix(self, obj) -> str:
        return obj.code_hash[:12] + "…"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(AccessTokenDetails)
class AccessTokenDetailsAdmin(IssuedDetailsAdmin):
    # Never show the token itself: DOT's __str__ is the raw token value.
    list_display = ("id", "access_token_id", "user", "client", "resource_server", "types")
    exclude = ("authorization_details", "access_token")
    list_select_related = ("access_token__user", "access_token__application", "resource_server")
    search_fields = ("access_token__user__username", "access_token__application__name")

    @admin.display(description=_("user"))
    def user(self, obj):
        return obj.access_token.user

    @admin.display(description=_("client"))
    def client(self, obj):
        return obj.access_token.application


@admin.register(RefreshTokenDetails)
class RefreshTokenDetailsAdmin(IssuedDetailsAdmin):
    list_display = ("id", "refresh_token_id", "resource_server", "types")
    exclude = ("authorization_details", "refresh_token")
    list_select_related = ("refresh_token", "resource_server")
    search_fields = ("refresh_token__user__username", "refresh_token__application__name")


class ConsentStateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return (("live", _("Live")), ("expired", _("Expired")), ("revoked", _("Revoked")))

    def queryset(self, request, queryset):
        from django.utils import timezone

        now = timezone.now()
        if self.value() == "live":
            return queryset.live(now)
        if self.value() == "expired":
            return queryset.filter(revoked__isnull=True, expires__lte=now)
        if self.value() == "revoked":
            return queryset.filter(revoked__isnull=False)
        return queryset


class ConsentTypeFilter(admin.SimpleListFilter):
    title = _("type")
    parameter_name = "detail_type"

    def lookups(self, request, model_admin):
        names = AuthorizationDetailType.objects.order_by("type").values_list("type", flat=True).distinct()
        return [(name, name) for name in names]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(types__contains=f" {self.value()} ")
        return queryset


class ConsentIssueInline(admin.TabularInline):
    """The grants under a consent: codes and tokens, by id and state only (never their values)."""

    model = ConsentIssue
    fields = ("kind", "record", "expires", "state")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = _("Codes and tokens issued under this consent")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    @staticmethod
    def _issued(obj):
        return obj.grant or obj.access_token or obj.refresh_token

    @admin.display(description=_("kind"))
    def kind(self, obj) -> str:
        if obj.grant_id:
            return _("authorization code")
        return _("access token") if obj.access_token_id else _("refresh token")

    @admin.display(description=_("id"))
    def record(self, obj) -> str:
        return f"#{self._issued(obj).pk}"

    @admin.display(description=_("expires"))
    def expires(self, obj):
        return getattr(self._issued(obj), "expires", None)

    @admin.display(description=_("state"))
    def state(self, obj) -> str:
        from django.utils import timezone

        if obj.refresh_token_id and obj.refresh_token.revoked:
            return _("revoked")
        expires = self.expires(obj)
        return _("expired") if expires and expires <= timezone.now() else _("live")


@admin.register(Consent)
class ConsentAdmin(admin.ModelAdmin):
    """Consents and the grants (codes, tokens) issued under them; revoke in bulk."""

    list_display = (
        "id",
        "user",
        "application",
        "resource_server",
        "types",
        "reusable",
        "created",
        "expires",
        "revoked",
        "live_tokens",
    )
    list_filter = (
        ("user", admin.RelatedOnlyFieldListFilter),
        ("application", admin.RelatedOnlyFieldListFilter),
        "resource_server",
        ConsentTypeFilter,
        ConsentStateFilter,
        "reusable",
    )
    search_fields = ("user__username", "application__name", "application__client_id", "types")
    list_select_related = ("user", "application", "resource_server")
    date_hierarchy = "created"
    readonly_fields = (
        "user",
        "application",
        "resource_server",
        "scope",
        "details_pretty",
        "reusable",
        "created",
        "expires",
        "revoked",
        "live_tokens",
    )
    exclude = ("authorization_details",)
    actions = ["revoke_selected"]
    inlines = [ConsentIssueInline]

    @admin.display(description=_("authorization details"))
    def details_pretty(self, obj) -> str:
        return _pretty_json(obj.authorization_details)

    @admin.display(description=_("live codes and access tokens"))
    def live_tokens(self, obj) -> int:
        from .consents import live_token_count

        return live_token_count(obj)

    @admin.action(description=_("Revoke the selected consents and their tokens"))
    def revoke_selected(self, request, queryset):
        from .consents import revoke_consent

        revoked = sum(revoke_consent(consent, request=request) for consent in queryset)
        self.message_user(request, _("Revoked %(count)d consent(s).") % {"count": revoked})

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
