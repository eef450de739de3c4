"""The demo pages: a landing page, the start of a real PAR flow, and the callback."""

from __future__ import annotations

import json
import secrets
import time

from django.conf import settings
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from . import client
from .hooks import STEP_UP_SESSION_KEY

SESSION_KEY = "demo_client"


def home(request):
    return render(
        request,
        "demo/home.html",
        {
            "issuer": settings.ISSUER,
            "sample_details": json.dumps(client.SAMPLE_TRANSFER, indent=2),
            "redirect_uri": settings.DEMO_REDIRECT_URI,
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
    """Shows what the client received; POST exchanges the code at the token endpoint."""
    pending = request.session.get(SESSION_KEY, {})
    params = request.POST if request.method == "POST" else request.GET
    context = {
        "code": params.get("code"),
        "state": params.get("state"),
        "iss": params.get("iss"),
        "error": params.get("error"),
        "error_description": params.get("error_description"),
        "expected_issuer": settings.ISSUER,
        "state_matches": bool(pending.get("state")) and params.get("state") == pending.get("state"),
        "started_here": bool(pending.get("state")),
    }
    context["iss_matches"] = context["iss"] == settings.ISSUER
    if request.method == "POST" and context["code"]:
        reply = client.exchange_code(context["code"], pending.get("code_verifier"))
        context["token_status"] = reply.status
        context["token_response"] = reply.body
        context["token_json"] = json.dumps(reply.body, indent=2)
        request.session.pop(SESSION_KEY, None)
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
        if request.user.check_password(request.POST.get("password", "")):
            # check_password may upgrade the stored hash; keep this session valid if it does.
            update_session_auth_hash(request, request.user)
            request.session[STEP_UP_SESSION_KEY] = time.time()
            return redirect(target)
        failed = True
    return render(
        request, "demo/step_up.html", {"next": target, "failed": failed}, status=400 if failed else 200
    )
