"""The end user's "Your authorizations" page: what they consented to, and Revoke.

RFC 9396 §3 asks the server to let users understand what they authorize; this
page keeps that understanding afterwards. Each stored consent is shown with
the same partials as the consent page. Revoke revokes the consent and every
code and token issued under it (RFC 7009 semantics, see :mod:`..consents`).

The list is paginated, newest first, and filtered by state (active, used,
revoked, expired). Each consent's state is computed in SQL
(:func:`..consents.with_state`), so a page costs the same few queries however
many consents the user has: a transactional payment API stores one per payment.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_deny

from ..consent import DetailView, build_detail_views
from ..consents import ACTIVE, EXPIRED, REVOKED, USED, revoke_consent, with_state
from ..models import AuthorizationDetailType, Consent

#: Consents per page.
PAGE_SIZE = 20
#: The filters, in the order the page offers them: (value of ?state=, label).
FILTERS = (
    ("", gettext_lazy("All")),
    (ACTIVE, gettext_lazy("Active")),
    (USED, gettext_lazy("Used")),
    (REVOKED, gettext_lazy("Revoked")),
    (EXPIRED, gettext_lazy("Expired")),
)


@dataclass
class AuthorizationEntry:
    consent: Consent
    details: list[DetailView]
    state: str  # active | used | expired | revoked

    @property
    def active(self) -> bool:
        return self.state == ACTIVE

    @property
    def api_name(self) -> str:
        """The API's name, also after the API was deleted (kept on the consent)."""
        if self.consent.resource_server is not None:
            return self.consent.resource_server.name
        return self.consent.api_name

    @property
    def api_removed(self) -> bool:
        return self.consent.resource_server_id is None and bool(self.consent.api_name)

    @property
    def what(self) -> str:
        """The labels of what was authorized, for the Revoke button's accessible name."""
        return ", ".join(dict.fromkeys(item.label for item in self.details)) or self.consent.scope


def consents_of(user, state: str = ""):
    """The user's consents with their state, newest first; only those in ``state`` when given."""
    consents = with_state(Consent.objects.filter(user=user)).select_related("application", "resource_server")
    if state:
        consents = consents.filter(state=state)
    return consents.order_by("-created", "-pk")


def entries_for(consents) -> list[AuthorizationEntry]:
    """Entries for ``consents`` (a page of them): one query for every registered type they use."""
    consents = list(consents)
    types: dict[int, dict[str, AuthorizationDetailType]] = {}
    for detail_type in AuthorizationDetailType.objects.filter(
        resource_server__in={c.resource_server_id for c in consents if c.resource_server_id}
    ).prefetch_related("display_fields"):
        types.setdefault(detail_type.resource_server_id, {})[detail_type.type] = detail_type
    return [
        AuthorizationEntry(
            consent=consent,
            details=build_detail_views(
                consent.authorization_details, types.get(consent.resource_server_id, {})
            ),
            state=consent.state,
        )
        for consent in consents
    ]


@method_decorator([never_cache, xframe_options_deny, login_required], name="dispatch")
class AuthorizationsView(View):
    """GET: the signed-in user's consents, newest first, ``?state=`` filters and ``?page=`` pages."""

    template_name = "rar_provider/authorizations.html"
    http_method_names = ["get"]

    def get(self, request, *args, **kwargs):
        state = request.GET.get("state", "")
        if state not in dict(FILTERS):
            state = ""
        paginator = Paginator(consents_of(request.user, state), PAGE_SIZE)
        page = paginator.get_page(request.GET.get("page"))
        return render(
            request,
            self.template_name,
            {
                "entries": entries_for(page.object_list),
                "page_obj": page,
                "state": state,
                "filters": [
                    {"value": value, "label": label, "current": value == state} for value, label in FILTERS
                ],
            },
        )


@method_decorator([never_cache, xframe_options_deny, login_required], name="dispatch")
class RevokeAuthorizationView(View):
    """POST: revoke one of the user's own consents (404 for anyone else's)."""

    http_method_names = ["post"]

    def post(self, request, pk: int, *args, **kwargs):
        consent = Consent.objects.filter(pk=pk, user=request.user).select_related("application").first()
        if consent is None:
            raise Http404("No such authorization.")
        if revoke_consent(consent, request=request):
            messages.success(
                request,
                _("You revoked the authorization you gave %(client)s. Its access has ended.")
                % {"client": consent.application.name},
            )
        return redirect("rar_provider:authorizations")
