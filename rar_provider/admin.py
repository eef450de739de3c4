"""Admin screens an operator uses to register APIs and types, set client policy and
look at pushed requests and the details carried by codes and tokens."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import escape, format_html
from django.utils.translation import gettext_lazy as _
from django.views.decorators.clickjacking import xframe_options_sameorigin

from . import lifecycles
from .admin_widgets import ASSETS, JSONEditor, PrettyJSONField, TypeChoiceField, TypesOfAPIWidget
from .consent import build_detail_view
from .details.sample import sample_detail
from .details.schema import validate_against_schema
from .errors import AuthorizationDetailsProblem
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


def _short_time(moment) -> str:
    """``2026-11-30 06:05``: a narrow column (lists fit 1280 px), in the current time zone."""
    from django.utils import timezone

    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else "-"


def _pretty_json(value) -> str:
    return format_html("<pre style='white-space:pre-wrap'>{}</pre>", json.dumps(value, indent=2))


class WithAssets:
    """Our admin CSS and JS (``rar_provider/admin/``) on every page of our models: lists that fit, editors."""

    @property
    def media(self):
        return super().media + ASSETS


class PlainHelpText(WithAssets):
    """Help texts are plain text: escaped, so ``rar_provider/details/<type>.html`` shows as written.

    (Django's admin renders ``help_text`` as HTML, which ate ``<type>``.)
    """

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if formfield is not None and formfield.help_text:
            formfield.help_text = escape(formfield.help_text)
        return formfield


class EndsWhatIsIssued:
    """Delete confirmation lists the live authorizations the deletion ends; a message says what was ended.

    The ending itself is done by :mod:`.lifecycles`' signal handlers, whatever deletes.
    """

    def get_deleted_objects(self, objs, request):
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        ended = lifecycles.what_deleting_ends(objs)
        if ended:
            heading = _("Live authorizations this ends (revoked and kept for the record, not deleted)")
            deleted = [*deleted, heading, ended.summary()]
        return deleted, model_count, perms_needed, protected

    def delete_model(self, request, obj):
        ended = lifecycles.what_deleting_ends([obj])
        super().delete_model(request, obj)
        self.message_user(request, lifecycles.describe(ended), messages.WARNING if ended else messages.INFO)

    def delete_queryset(self, request, queryset):
        ended = lifecycles.what_deleting_ends(list(queryset))
        super().delete_queryset(request, queryset)
        self.message_user(request, lifecycles.describe(ended), messages.WARNING if ended else messages.INFO)


class AuthorizationDetailTypeInline(PlainHelpText, admin.TabularInline):
    model = AuthorizationDetailType
    fields = ("type", "label", "enabled")
    extra = 0
    show_change_link = True


@admin.register(ResourceServer)
class ResourceServerAdmin(PlainHelpText, EndsWhatIsIssued, admin.ModelAdmin):
    # Short column headings and values: the list fits 1280 px beside admin's sidebar and filters.
    list_display = ("name", "identifier", "users", "clients", "consent", "tokens", "type_count")
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
        (_("Revocation and introspection"), {"fields": ("check_revocation", "introspection_clients")}),
    )
    filter_horizontal = ("introspection_clients",)

    @admin.display(description=_("users"), ordering="user_access_policy")
    def users(self, obj) -> str:
        return obj.get_user_access_policy_display()

    @admin.display(description=_("clients"), ordering="client_access_policy")
    def clients(self, obj) -> str:
        return obj.get_client_access_policy_display()

    @admin.display(description=_("consent"), ordering="consent_policy")
    def consent(self, obj) -> str:
        return obj.get_consent_policy_display()

    @admin.display(description=_("tokens"), ordering="access_token_format")
    def tokens(self, obj) -> str:
        return obj.get_access_token_format_display()

    @admin.display(description=_("types"))
    def type_count(self, obj) -> int:
        return obj.detail_types.count()


class DisplayFieldInline(PlainHelpText, admin.TabularInline):
    """Presentation without code: the fields the generic partial shows, in order, with their labels."""

    model = DisplayField
    fields = ("position", "field", "label")
    extra = 0
    verbose_name_plural = _(
        "Fields shown on the consent page (in this order; none listed: every field, labelled from its name)"
    )


class AuthorizationDetailTypeForm(forms.ModelForm):
    json_schema = PrettyJSONField(
        label=_("JSON Schema"),
        required=False,
        help_text=AuthorizationDetailType._meta.get_field("json_schema").help_text,
    )

    class Meta:
        model = AuthorizationDetailType
        fields = (
            "resource_server",
            "type",
            "enabled",
            "label",
            "description",
            "template_name",
            "json_schema",
        )

    def clean_json_schema(self):
        value = self.cleaned_data["json_schema"]
        return {} if value is None else value


@admin.register(AuthorizationDetailType)
class AuthorizationDetailTypeAdmin(PlainHelpText, EndsWhatIsIssued, admin.ModelAdmin):
    form = AuthorizationDetailTypeForm
    list_display = ("type", "label", "api", "enabled")
    list_filter = ("enabled", "resource_server")
    search_fields = ("type", "label", "description", "resource_server__identifier")
    list_select_related = ("resource_server",)
    readonly_fields = ("live_preview",)
    inlines = [DisplayFieldInline]

    @admin.display(description=_("API"), ordering="resource_server__name")
    def api(self, obj) -> str:
        return obj.resource_server.name

    def get_fieldsets(self, request, obj=None):
        fieldsets = [
            (None, {"fields": ("resource_server", "type", "enabled")}),
            (_("Shown to end users"), {"fields": ("label", "description", "template_name")}),
            (_("Validation"), {"fields": ("json_schema",)}),
        ]
        if obj is not None:
            fieldsets.append(
                (
                    _("Preview of the consent page"),
                    {
                        "fields": ("live_preview",),
                        "description": _(
                            "How a user sees one entry of this type, with the saved label, fields and "
                            "template. Edit the sample to try other values; save to preview other settings."
                        ),
                    },
                )
            )
        return fieldsets

    @admin.display(description=_("live preview"))
    def live_preview(self, obj) -> str:
        if obj is None or obj.pk is None:
            return "-"
        sample = sample_detail(obj.type, obj.json_schema)
        base = reverse("admin:rar_provider_authorizationdetailtype_preview", args=[obj.pk])
        editor = JSONEditor({"id": "rar-preview-sample", "rows": 12}).render(
            "", json.dumps(sample, indent=2, ensure_ascii=False)
        )
        return format_html(
            '<div class="rar-preview"><label for="rar-preview-sample">{}</label>{}'
            '<iframe id="rar-preview-frame" title="{}" src="{}?{}" data-base="{}"></iframe></div>',
            _("Sample entry (JSON)"),
            editor,
            _("Consent page preview"),
            base,
            urlencode({"detail": json.dumps(sample, separators=(",", ":"), ensure_ascii=False)}),
            base,
        )

    def get_urls(self):
        preview = self.admin_site.admin_view(xframe_options_sameorigin(self.preview_view))
        return [
            path("<path:object_id>/preview/", preview, name="rar_provider_authorizationdetailtype_preview"),
            *super().get_urls(),
        ]

    def preview_view(self, request, object_id):
        """GET ``?detail=<JSON>``: the entry rendered as on the consent page (same partials), with any
        problem a real request would meet (not JSON, not an object, not matching the schema)."""
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            raise Http404("No such type.")
        if not self.has_view_permission(request, obj):
            raise PermissionDenied
        problems = []
        detail = sample_detail(obj.type, obj.json_schema)
        raw = request.GET.get("detail")
        if raw is not None:
            try:
                given = json.loads(raw)
            except ValueError as exc:
                problems.append(_("The sample is not valid JSON: %(problem)s") % {"problem": exc})
            else:
                if isinstance(given, dict):
                    detail = given
                else:
                    problems.append(_("An entry is a JSON object; showing the sample built from the schema."))
        if detail.get("type") != obj.type:
            problems.append(
                _("The entry's type must be %(type)s; the preview uses it.") % {"type": json.dumps(obj.type)}
            )
            detail = {**detail, "type": obj.type}
        try:
            validate_against_schema(0, detail, obj.json_schema)
        except AuthorizationDetailsProblem as problem:
            problems.append(
                _("A request with this entry would be refused: %(why)s") % {"why": problem.description}
            )
        return TemplateResponse(
            request,
            "rar_provider/admin/preview.html",
            {"item": build_detail_view(0, detail, obj), "problems": problems, "detail_type": obj},
        )


class ClientGrantForm(forms.ModelForm):
    detail_types = TypeChoiceField(
        queryset=AuthorizationDetailType.objects.select_related("resource_server").order_by(
            "resource_server__name", "type"
        ),
        required=False,
        widget=TypesOfAPIWidget(attrs={"class": "rar-type-choices"}),
        label=_("allowed types"),
        help_text=_("Only the chosen API's types are listed."),
    )

    class Meta:
        model = ClientGrant
        fields = ("resource_server", "detail_types")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and self.instance.resource_server_id and not self.is_bound:
            field = self.fields["detail_types"]
            field.queryset = field.queryset.filter(resource_server_id=self.instance.resource_server_id)

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


class ClientGrantInline(PlainHelpText, admin.StackedInline):
    model = ClientGrant
    form = ClientGrantForm
    extra = 0


@admin.register(ClientPolicy)
class ClientPolicyAdmin(PlainHelpText, EndsWhatIsIssued, admin.ModelAdmin):
    list_display = ("application", "par_required", "granted_apis")
    list_filter = ("require_pushed_authorization_requests",)
    search_fields = ("application__name", "application__client_id")
    raw_id_fields = ("application",)
    inlines = [ClientGrantInline]

    @admin.display(
        description=_("PAR required"), boolean=True, ordering="require_pushed_authorization_requests"
    )
    def par_required(self, obj) -> bool:
        return obj.require_pushed_authorization_requests

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


class IssuedDetailsAdmin(WithAssets, admin.ModelAdmin):
    list_filter = ("resource_server",)

    @admin.display(description=_("API"), ordering="resource_server__name")
    def api(self, obj) -> str:
        return obj.resource_server.name if obj.resource_server else "-"

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
class CodeRedemptionAdmin(WithAssets, admin.ModelAdmin):
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
    list_display = ("id", "user", "client", "api", "types")
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
    list_display = ("id", "refresh_token_id", "api", "types")
    exclude = ("authorization_details", "refresh_token")
    list_select_related = ("refresh_token", "resource_server")
    search_fields = ("refresh_token__user__username", "refresh_token__application__name")


class ConsentStateFilter(admin.SimpleListFilter):
    """The states of "Your authorizations" (:func:`.consents.with_state`), and ``live``."""

    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return (
            ("active", _("Active")),
            ("used", _("Used (one-time)")),
            ("expired", _("Expired")),
            ("revoked", _("Revoked")),
            ("live", _("Live (not revoked, not expired)")),
        )

    def queryset(self, request, queryset):
        from django.utils import timezone

        if self.value() == "live":
            return queryset.live(timezone.now())
        if self.value() in ("active", "used", "expired", "revoked"):
            return queryset.filter(state=self.value())
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
class ConsentAdmin(WithAssets, admin.ModelAdmin):
    """Consents and the grants (codes, tokens) issued under them; revoke in bulk."""

    list_display = ("id", "user", "application", "api", "types", "created_short", "state")
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

    def get_queryset(self, request):
        from .consents import with_state

        return with_state(super().get_queryset(request))

    @admin.display(description=_("API"), ordering="resource_server__name")
    def api(self, obj) -> str:
        return obj.resource_server.name if obj.resource_server else obj.api_name or "-"

    @admin.display(description=_("created"), ordering="created")
    def created_short(self, obj) -> str:
        return _short_time(obj.created)

    @admin.display(description=_("state"), ordering="state")
    def state(self, obj) -> str:
        return {
            "active": _("Active"),
            "used": _("Used"),
            "revoked": _("Revoked"),
            "expired": _("Expired"),
        }.get(obj.state, obj.state)

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


# -- client ids that read as a user's subject (issue 13; rar_provider.subjects) ----------------------------


def _refuse_subject_like_client_ids(site: admin.AdminSite = admin.site) -> None:
    """Wrap the Application admin registered now (DOT's, or the project's ``APPLICATION_ADMIN_CLASS``)
    so its form refuses a client_id that reads as a user's subject: such a client's own tokens would
    carry the same ``sub`` as that user's (RFC 9068 §2.2)."""
    from oauth2_provider.models import get_application_model

    from .subjects import reads_as_user_subject

    model = get_application_model()
    registered = site._registry.get(model)
    if registered is None or getattr(registered, "refuses_subject_like_client_ids", False):
        return
    base = type(registered)

    class ApplicationAdmin(base):
        refuses_subject_like_client_ids = True

        def get_form(self, request, obj=None, **kwargs):
            form = super().get_form(request, obj, **kwargs)

            def clean(form_self):
                data = super(checked, form_self).clean()
                client_id = (data or {}).get("client_id")
                if isinstance(client_id, str) and reads_as_user_subject(client_id):
                    form_self.add_error(
                        "client_id",
                        _(
                            "This client ID reads as a user's ID: tokens the client gets for itself "
                            "would name the same subject as that user's. Choose one with a letter in it."
                        ),
                    )
                return data

            checked = type(form.__name__, (form,), {"clean": clean})
            return checked

    ApplicationAdmin.__name__ = base.__name__
    site.unregister(model)
    site.register(model, ApplicationAdmin)


_refuse_subject_like_client_ids()
