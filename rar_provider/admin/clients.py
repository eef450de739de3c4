"""Client policy (PAR required, client authentication and public keys, signed request objects,
client grants) and DOT's Application form's client_id check."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from ..admin_widgets import TypeChoiceField, TypesOfAPIWidget
from ..models import AuthorizationDetailType, ClientGrant, ClientPolicy
from .common import EndsWhatIsIssued, PlainHelpText


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
    list_display = ("application", "par_required", "token_endpoint_auth_method", "granted_apis")
    list_filter = ("require_pushed_authorization_requests", "token_endpoint_auth_method")
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


# -- client ids that read as a user's subject (issue 13; rar_provider.subjects) ----------------------------


def _refuse_subject_like_client_ids(site: admin.AdminSite = admin.site) -> None:
    """Wrap the Application admin registered now (DOT's, or the project's ``APPLICATION_ADMIN_CLASS``)
    so its form refuses a client_id that reads as a user's subject: such a client's own tokens would
    carry the same ``sub`` as that user's (RFC 9068 §2.2)."""
    from oauth2_provider.models import get_application_model

    from ..subjects import reads_as_user_subject

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
