"""Read-only screens: pushed requests (RFC 9126), redeemed codes, and what tokens carry."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from ..models import CodeRedemption, IssuedAccessToken, IssuedRefreshToken, PushedAuthorizationRequest
from .common import WithAssets, _pretty_json, _short_time


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
class PushedAuthorizationRequestAdmin(WithAssets, admin.ModelAdmin):
    list_display = ("id", "application", "api", "types", "pushed", "state")
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

    @admin.display(description=_("API"), ordering="resource_server__name")
    def api(self, obj) -> str:
        return obj.resource_server.name if obj.resource_server else "-"

    @admin.display(description=_("pushed at"), ordering="created_at")
    def pushed(self, obj) -> str:
        return _short_time(obj.created_at)

    @admin.display(description=_("state"))
    def state(self, obj) -> str:
        if obj.consumed_at:
            return _("Used")
        return _("Expired, unused") if obj.is_expired else _("Pending")

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


@admin.register(CodeRedemption)
class CodeRedemptionAdmin(WithAssets, admin.ModelAdmin):
    """Read-only: which codes were exchanged, and which were replayed (RFC 6749 §4.1.2)."""

    list_display = ("code_hash_prefix", "application", "redeemed_at", "replayed_at")
    list_filter = (("replayed_at", admin.EmptyFieldListFilter), "application")
    list_select_related = ("application",)
    fields = (
        "code_hash",
        "application",
        "grant",
        "access_token",
        "token_family",
        "redeemed_at",
        "replayed_at",
    )
    readonly_fields = fields

    @admin.display(description=_("code hash"))
    def code_hash_prefix(self, obj) -> str:
        return obj.code_hash[:12] + "…"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(IssuedAccessToken)
class IssuedAccessTokenAdmin(WithAssets, admin.ModelAdmin):
    """What each access token carries, and its grant. Never the token itself (DOT's ``__str__`` is
    the raw token value)."""

    list_display = ("id", "user", "client", "api", "types", "grant_number")
    list_filter = ("resource_server",)
    list_select_related = ("access_token__user", "access_token__application", "resource_server", "grant")
    search_fields = ("access_token__user__username", "access_token__application__name", "grant__grant_id")
    fields = ("grant", "resource_server", "details_pretty", "grant_entries", "dpop_jkt")
    readonly_fields = fields

    @admin.display(description=_("grant"), ordering="grant")
    def grant_number(self, obj) -> str:
        return f"#{obj.grant_id}" if obj.grant_id else "-"

    @admin.display(description=_("user"))
    def user(self, obj):
        return obj.access_token.user

    @admin.display(description=_("client"))
    def client(self, obj):
        return obj.access_token.application

    @admin.display(description=_("API"), ordering="resource_server__name")
    def api(self, obj) -> str:
        return obj.resource_server.name if obj.resource_server else "-"

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


@admin.register(IssuedRefreshToken)
class IssuedRefreshTokenAdmin(WithAssets, admin.ModelAdmin):
    """Refresh tokens and their grant (whose details they keep whole). Never the token itself."""

    list_display = ("id", "refresh_token_id", "user", "client", "api", "grant_number")
    list_filter = ("grant__resource_server",)
    list_select_related = (
        "refresh_token__user",
        "refresh_token__application",
        "grant__resource_server",
    )
    search_fields = ("refresh_token__user__username", "refresh_token__application__name", "grant__grant_id")
    fields = ("grant", "details_pretty", "dpop_jkt")
    readonly_fields = fields

    @admin.display(description=_("grant"), ordering="grant")
    def grant_number(self, obj) -> str:
        return f"#{obj.grant_id}"

    @admin.display(description=_("user"))
    def user(self, obj):
        return obj.refresh_token.user

    @admin.display(description=_("client"))
    def client(self, obj):
        return obj.refresh_token.application

    @admin.display(description=_("API"))
    def api(self, obj) -> str:
        return obj.grant.resource_server.name if obj.grant.resource_server else obj.grant.api_name or "-"

    @admin.display(description=_("authorization details"))
    def details_pretty(self, obj) -> str:
        return _pretty_json(obj.grant.authorization_details)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
