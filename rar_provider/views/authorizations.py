"""The end user's "Your authorizations" page: what they consented to, and Revoke.

RFC 9396 §3 asks the server to let users understand what they authorize; this
page keeps that understanding afterwards. Each stored consent is shown with
the same partials as the consent page. Revoke revokes the consent and every
code and token issued under it (RFC 7009 semantics, see :mod:`..consents`).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_deny

from ..consent import DetailView, build_detail_views
from ..consents import revoke_consent
from ..models import AuthorizationDetailType, Consent


@dataclass
class AuthorizationEntry:
    consent: Consent
    details: list[DetailView]
    live_tokens: int
    state: str  # active | used | expired | revoked

    @property
    def active(self) -> bool:
        return self.state == "active"


def _state(consent: Consent, live_tokens: int) -> str:
    if consent.is_revoked:
        return "revoked"
    if live_tokens or (consent.reusable and not consent.is_expired):
        return "active"
    return "expired" if consent.is_expired else "used"


def entries_for(user) -> list[AuthorizationEntry]:
    """The user's consents, newest first, each with its count of live codes and access tokens."""
    now = timezone.now()
    live = Q(issued__access_token__expires__gt=now) | Q(issued__grant__expires__gt=now)
    consents = list(
        Consent.objects.filter(user=user)
        .select_related("application", "resource_server")
        .annotate(live_tokens=Count("issued", filter=live))
        .order_by("-created", "-pk")
    )
    types: dict[int, dict[str, AuthorizationDetailType]] = {}
    for detail_type in AuthorizationDetailType.objects.filter(
        resource_server__in={c.resource_server_id for c in consents if c.resource_server_id}
    ).prefetch_related("display_fields"):
        types.setdefault(detail_type.resource_server_id, {})[detail_type.type] = detail_type
    entries = []
    for consent in consents:
        entries.append(
            AuthorizationEntry(
                consent=consent,
                details=build_detail_views(
                    consent.authorization_details, types.get(consent.resource_server_id, {})
                ),
                live_tokens=consent.live_tokens,
                state=_state(consent, consent.live_tokens),
            )
        )
    return entries


@method_decorator([never_cache, xframe_options_deny, login_required], name="dispatch")
class AuthorizationsView(View):
    """GET: the signed-in user's consents, active ones first."""

    template_name = "rar_provider/authorizations.html"
    http_method_names = ["get"]

    def get(self, request, *args, **kwargs):
        entries = entries_for(request.user)
        return render(
            request,
            self.template_name,
            {
                "active": [entry for entry in entries if entry.active],
                "past": [entry for entry in entries if not entry.active],
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
