"""The demo pages: a landing page, the start of a real PAR flow, the callback, and a call to the API."""

from __future__ import annotations

import json
import secrets
import time

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.auth import authenticate, update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from . import client, fapi_client, fapi_views
from .hooks import STEP_UP_SESSION_KEY

SESSION_KEY = "demo_client"
#: The token the demo client received, kept server side (in the session), never in a page or URL.
TOKEN_SESSION_KEY = "demo_client_token"


def home(request):
    return render(
        request,
        "demo/home.html",
        {
            "issuer": settings.ISSUER,
            "sample_details": json.dumps(client.SAMPLE_TRANSFER, indent=2),
            "redirect_uri": settings.DEMO_REDIRECT_URI,
            "fapi_client_id": fapi_client.client_id(),
            "fapi_setup_problem": fapi_views.setup_problem(),
        },
    )


@require_POST
def start(request):
    """'Try a money transfer': push the request, then send the browser to /oauth/authorize."""
    state = secrets.token_urlsafe(16)
    verifier, challenge = client.pkce_pair()
    reply = client.push_authorization_request(client.SAMPLE_TRANSFER, state, challenge)
    if reply.status != 201:
        return render(
            request, "demo/callback.html", {"push_error": reply.body, "status": reply.status}, status=502
        )
    request.session[SESSION_KEY] = {"state": state, "code_verifier": verifier}
    return redirect(client.authorize_url(reply.body["request_uri"]))


@require_http_methods(["GET", "POST"])
def callback(request):
    """Shows what the client received; POST exchanges the code at the token endpoint.

    Both demo clients share this redirect URI: a redirect carrying the FAPI flow's ``state`` is its.
    """
    if fapi_views.owns_callback(request):
        return fapi_views.callback(request)
    pending = request.session.get(SESSION_KEY, {})
    params = request.POST if request.method == "POST" else request.GET
    context = client.redirect_result(params, pending.get("state"))
    if request.method == "POST" and context["code"]:
        reply = client.exchange_code(context["code"], pending.get("code_verifier"))
        context["token_status"] = reply.status
        context["token_response"] = reply.body
        context["token_json"] = json.dumps(reply.body, indent=2)
        request.session.pop(SESSION_KEY, None)
        if reply.status == 200 and reply.body.get("access_token"):
            request.session[TOKEN_SESSION_KEY] = {
                "access_token": reply.body["access_token"],
                "authorization_details": reply.body.get("authorization_details") or [],
            }
            context.update(_token_context(request))
    return render(request, "demo/callback.html", context)


def _approved_transfer(held: dict) -> dict | None:
    """The money_transfer the token response says was granted (absent when only types come back: JWE)."""
    for detail in held.get("authorization_details", []):
        if detail.get("type") == "money_transfer" and "instructedAmount" in detail:
            return detail
    return None


def _token_context(request) -> dict:
    """The held token, decoded for display (the demo client showing its own token), and its details."""
    held = request.session.get(TOKEN_SESSION_KEY)
    if not held:
        return {}
    decoded = client.decode_jwt(held["access_token"])
    context = {
        "token_held": True,
        "token_encrypted": decoded is None,
        "granted_details_json": json.dumps(held["authorization_details"], indent=2),
        "can_transfer": _approved_transfer(held) is not None,
    }
    if decoded is not None:
        context["jwt_header_json"] = json.dumps(decoded["header"], indent=2)
        context["jwt_claims_json"] = json.dumps(decoded["claims"], indent=2)
        context["jwt_details_json"] = json.dumps(decoded["claims"].get("authorization_details"), indent=2)
    return context


@require_POST
def transfer(request):
    """'Execute this transfer' / 'Try a different amount': call the Payments API with the held token."""
    context = _token_context(request)
    held = request.session.get(TOKEN_SESSION_KEY)
    detail = _approved_transfer(held) if held else None
    if detail is None:
        context["api_error"] = "The demo client holds no token with an approved money transfer: start a flow."
        return render(request, "demo/callback.html", context, status=400)
    different = request.POST.get("amount") == "different"
    body = client.transfer_request(detail, amount_change=100 if different else 0)
    reply = client.call_transfers_api(held["access_token"], body)
    context.update(
        api_request_json=json.dumps(body, indent=2),
        api_status=reply.status,
        api_response_json=json.dumps(reply.body, indent=2),
        api_www_authenticate=reply.headers.get("www-authenticate", ""),
        api_executed=reply.status == 201,
    )
    return render(request, "demo/callback.html", context)


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def step_up(request):
    """Re-enter your password, then go back to the same consent page (the demo's step-up)."""
    target = request.POST.get("next") or request.GET.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    failed = False
    if request.method == "POST":
        # authenticate(), not check_password(): django-axes counts the failures and locks out
        # (its middleware then answers the lockout page), as on the login page.
        password = request.POST.get("password", "")
        user = authenticate(request, username=request.user.get_username(), password=password)
        if user is not None and user.pk == request.user.pk:
            # check_password may upgrade the stored hash; keep this session valid if it does.
            update_session_auth_hash(request, user)
            # A right password ends the run of failures, as a successful login does (AXES_RESET_ON_SUCCESS).
            AxesProxyHandler.user_logged_in(sender=step_up, request=request, user=user)
            request.session[STEP_UP_SESSION_KEY] = time.time()
            return redirect(target)
        failed = True
    return render(
        request, "demo/step_up.html", {"next": target, "failed": failed}, status=400 if failed else 200
    )
