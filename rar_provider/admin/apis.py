"""APIs (resource servers) and their authorization_details types: schema editor, consent preview."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.views.decorators.clickjacking import xframe_options_sameorigin

from ..admin_widgets import JSONEditor, PrettyJSONField
from ..consent import build_detail_view
from ..details.sample import sample_detail
from ..details.schema import validate_against_schema
from ..errors import AuthorizationDetailsProblem
from ..models import AuthorizationDetailType, DisplayField, ResourceServer
from .common import EndsWhatIsIssued, PlainHelpText


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
        (_("Security profile"), {"fields": ("fapi_2_0",)}),
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
