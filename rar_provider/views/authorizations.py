"""The end user's "Your authorizations" page: the grants they gave, and Revoke.

RFC 9396 §3 asks the server to let users understand what they authorize; this
page keeps that understanding afterwards. Each grant is shown with the same
partials as the consent page. Revoke revokes the grant and every code and
token issued under it, in one transaction (:func:`rar_provider.grants.lifecycle.revoke`).

The list is paginated, newest first, and filtered by status (active, used,
revoked, expired), computed in SQL (:func:`rar_provider.grants.projections.with_state`),
so a page costs the same few queries however many grants the user has: a
transactional payment API stores one per payment.
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
from ..grants.lifecycle import revoke
from ..grants.projections import ACTIVE, EXPIRED, REVOKED, USED, with_state
from ..models import AuthorizationDetailType, AuthorizationGrant
from ..transactions import TransactionConflict, atomic_with_retry

#: Grants per page.
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
    grant: AuthorizationGrant
    details: list[DetailView]
    state: str  # active | used | expired | revoked
    live: bool = False  # a code or token issued under it can still be used

    @property
    def active(self) -> bool:
        return self.state == ACTIVE

    @property
    def revocable(self) -> bool:
        """Active, or used while a token issued under it still lives (revoking ends that token)."""
        return self.state == ACTIVE or (self.state == USED and self.live)

    @property
    def api_name(self) -> str:
        """The API's name, also after the API was deleted (kept on the grant)."""
        if self.grant.resource_server is not None:
            return self.grant.resource_server.name
        return self.grant.api_name

    @property
    def api_removed(self) -> bool:
        return self.grant.resource_server_id is None and bool(self.grant.api_name)

    @property
    def what(self) -> str:
        """The labels of what was authorized, for the Revoke button's accessible name."""
        return ", ".join(dict.fromkeys(item.label for item in self.details)) or self.grant.scope


def grants_of(user, state: str = ""):
    """The grants the user gave, with their status, newest first; only those in ``state`` when given."""
    grants = with_state(AuthorizationGrant.objects.given().filter(user=user)).select_related(
        "application", "resource_server"
    )
    if state:
        grants = grants.filter(status=state)
    return grants.order_by("-created", "-pk")


def entries_for(grants) -> list[AuthorizationEntry]:
    """Entries for ``grants`` (a page of them): one query for every registered type they use."""
    grants = list(grants)
    types: dict[int, dict[str, AuthorizationDetailType]] = {}
    for detail_type in AuthorizationDetailType.objects.filter(
        resource_server__in={g.resource_server_id for g in grants if g.resource_server_id}
    ).prefetch_related("display_fields"):
        types.setdefault(detail_type.resource_server_id, {})[detail_type.type] = detail_type
    return [
        AuthorizationEntry(
            grant=grant,
            details=build_detail_views(grant.authorization_details, types.get(grant.resource_server_id, {})),
            state=grant.status,
            live=grant.live,
        )
        for grant in grants
    ]


@method_decorator([never_cache, xframe_options_deny, login_required], name="dispatch")
class AuthorizationsView(View):
    """GET: the signed-in user's grants, newest first, ``?state=`` filters and ``?page=`` pages."""

    template_name = "rar_provider/authorizations.html"
    http_method_names = ["get"]

    def get(self, request, *args, **kwargs):
        state = request.GET.get("state", "")
        if state not in dict(FILTERS):
            state = ""
        paginator = Paginator(grants_of(request.user, state), PAGE_SIZE)
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
    """POST: revoke one of the user's own grants (404 for anyone else's); retried on a conflict."""

    http_method_names = ["post"]

    def post(self, request, pk: int, *args, **kwargs):
        grant = (
            AuthorizationGrant.objects.given()
            .filter(pk=pk, user=request.user)
            .select_related("application")
            .first()
        )
        if grant is None:
            raise Http404("No such authorization.")
        try:
            revoked = atomic_with_retry(lambda: revoke(grant, request=request))
        except TransactionConflict:
            messages.error(request, _("The server was busy and could not revoke it; please try again."))
            return redirect("rar_provider:authorizations")
        if revoked:
            messages.success(
                request,
                _("You revoked the authorization you gave %(client)s. Its access has ended.")
                % {"client": grant.application.name},
            )
        return redirect("rar_provider:authorizations")
