"""The demo pages: a landing page, the start of a real PAR flow, and the callback."""

from __future__ import annotations

import json
import secrets

from django.conf import settings
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from . import client

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
