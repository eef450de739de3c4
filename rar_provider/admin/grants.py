"""Grants: what each user approved, their lifecycle state, and what was issued under them."""

from __future__ import annotations

from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..grants.lifecycle import revoke
from ..grants.projections import live_token_count, with_state
from ..models import (
    AuthorizationDetailType,
    AuthorizationGrant,
    IssuedAccessToken,
    IssuedCode,
    IssuedRefreshToken,
)
from .common import WithAssets, _pretty_json, _short_time


class GrantStatusFilter(admin.SimpleListFilter):
    """The statuses of "Your authorizations" (:func:`~.projections.with_state`), and live."""

    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return (
            ("active", _("Active")),
            ("used", _("Used (one-time)")),
            ("expired", _("Expired")),
            ("revoked", _("Revoked")),
            ("live", _("Live (not revoked, not expired)")),
        )

    def queryset(self, request, queryset):
        if self.value() == "live":
            return queryset.live(timezone.now())
        if self.value() in ("active", "used", "expired", "revoked"):
            return queryset.filter(status=self.value())
        return queryset


class GrantTypeFilter(admin.SimpleListFilter):
    title = _("type")
    parameter_name = "detail_type"

    def lookups(self, request, model_admin):
        names = AuthorizationDetailType.objects.order_by("type").values_list("type", flat=True).distinct()
        return [(name, name) for name in names]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(types__contains=f" {self.value()} ")
        return queryset


class IssuedInline(admin.TabularInline):
    """Codes and tokens issued under a grant, by id and state only (never their values)."""

    fields = ("record", "expires", "state")
    readonly_fields = fields
    extra = 0
    can_delete = False
    issued_field = ""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def _issued(self, obj):
        return getattr(obj, self.issued_field)

    @admin.display(description=_("id"))
    def record(self, obj) -> str:
        return f"#{getattr(obj, self.issued_field + '_id')}"

    @admin.display(description=_("expires"))
    def expires(self, obj):
        return getattr(self._issued(obj), "expires", None)

    @admin.display(description=_("state"))
    def state(self, obj) -> str:
        if getattr(self._issued(obj), "revoked", None):
            return _("revoked")
        expires = self.expires(obj)
        return _("expired") if expires and expires <= timezone.now() else _("live")


class IssuedCodeInline(IssuedInline):
    model = IssuedCode
    issued_field = "code"
    verbose_name_plural = _("Authorization codes issued under this grant")


class IssuedAccessTokenInline(IssuedInline):
    model = IssuedAccessToken
    issued_field = "access_token"
    fields = ("record", "expires", "state", "grant_entries")
    readonly_fields = fields
    verbose_name_plural = _("Access tokens issued under this grant")


class IssuedRefreshTokenInline(IssuedInline):
    model = IssuedRefreshToken
    issued_field = "refresh_token"
    verbose_name_plural = _("Refresh tokens issued under this grant")


@admin.register(AuthorizationGrant)
class AuthorizationGrantAdmin(WithAssets, admin.ModelAdmin):
    """Grants, their lifecycle state, and the codes and tokens issued under them; revoke in bulk."""

    # No id column: the user links to the grant (the list fits 1280 px with three-digit ids too).
    list_display = ("user", "application", "api", "types", "created_short", "state")
    list_display_links = ("user",)
    list_filter = (
        ("user", admin.RelatedOnlyFieldListFilter),
        ("application", admin.RelatedOnlyFieldListFilter),
        "resource_server",
        GrantTypeFilter,
        "state",
        GrantStatusFilter,
        "reusable",
    )
    search_fields = ("user__username", "application__name", "application__client_id", "types", "grant_id")
    list_select_related = ("user", "application", "resource_server")
    date_hierarchy = "created"
    readonly_fields = (
        "grant_id",
        "state",
        "user",
        "application",
        "resource_server",
        "scope",
        "details_pretty",
        "reusable",
        "created",
        "decided",
        "expires",
        "revoked",
        "used",
        "live_tokens",
    )
    exclude = ("authorization_details",)
    actions = ["revoke_selected"]
    inlines = [IssuedCodeInline, IssuedAccessTokenInline, IssuedRefreshTokenInline]

    @admin.display(description=_("authorization details"))
    def details_pretty(self, obj) -> str:
        return _pretty_json(obj.authorization_details)

    def get_queryset(self, request):
        return with_state(super().get_queryset(request))

    @admin.display(description=_("API"), ordering="resource_server__name")
    def api(self, obj) -> str:
        return obj.resource_server.name if obj.resource_server else obj.api_name or "-"

    @admin.display(description=_("created"), ordering="created")
    def created_short(self, obj) -> str:
        return _short_time(obj.created)

    @admin.display(description=_("status"), ordering="status")
    def status(self, obj) -> str:
        return {
            "active": _("Active"),
            "used": _("Used"),
            "revoked": _("Revoked"),
            "expired": _("Expired"),
        }.get(obj.status, obj.status)

    @admin.display(description=_("live codes and access tokens"))
    def live_tokens(self, obj) -> int:
        return live_token_count(obj)

    @admin.action(description=_("Revoke the selected grants and their tokens"))
    def revoke_selected(self, request, queryset):
        revoked = sum(revoke(grant, request=request) for grant in queryset)
        self.message_user(request, _("Revoked %(count)d grant(s).") % {"count": revoked})

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
