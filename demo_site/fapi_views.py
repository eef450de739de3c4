"""The demo's FAPI 2.0 pages: "Try the FAPI 2.0 flow" as client ``demo-fapi`` (demo_site/fapi_client.py).

start (PAR with private_key_jwt + DPoP + PKCE S256 + RAR) → the browser at /oauth/authorize → login
and consent → the callback (``state`` and ``iss`` checked) → the code exchange (private_key_jwt + DPoP)
→ the DPoP-bound token shown → the Payments API called with ``DPoP`` (and refused as ``Bearer``) →
a refresh (private_key_jwt + DPoP) whose token stays bound. Everything the client holds (the flow's
DPoP private key, PKCE verifier, tokens) stays server side, in the session under ``SESSION_KEY``.
"""

from __future__ import annotations

import json
import secrets

from django.conf import settings
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST
from oauth2_provider.models import get_application_model

from rar_provider.models import ClientPolicy

from . import client, fapi_client

SESSION_KEY = "demo_fapi"
TEMPLATE = "demo/fapi.html"


def setup_problem() -> str | None:
    """None when the FAPI client can run; else what is missing (the page then says "run make demo")."""
    try:
        key = fapi_client.client_key()
    except fapi_client.NotReady as exc:
        return str(exc)
    client_id = fapi_client.client_id()
    application = get_application_model().objects.filter(client_id=client_id).first()
    if application is None:
        return f"the client {client_id} is not registered"
    if settings.DEMO_REDIRECT_URI not in application.redirect_uris.split():
        return f"{client_id} does not have the redirect URI {settings.DEMO_REDIRECT_URI}"
    policy = ClientPolicy.objects.filter(application=application).first()
    if policy is None or policy.token_endpoint_auth_method != "private_key_jwt":
        return f"{client_id} is not registered for private_key_jwt"
    try:
        kids = {entry.get("kid") for entry in json.loads(policy.jwks or "{}").get("keys", [])}
    except (ValueError, AttributeError):
        kids = set()
    if key.get("kid") not in kids:
        return f"{client_id}'s registered public keys do not include the key in {fapi_client.key_file()}"
    return None


def _page(request, context: dict, status: int = 200):
    return render(request, TEMPLATE, {"expected_issuer": settings.ISSUER, **context}, status=status)


@require_POST
def start(request):
    """'Try the FAPI 2.0 flow': push the request (RFC 9126) as demo-fapi, then send the browser on."""
    problem = setup_problem()
    if problem:
        return _page(request, {"setup_problem": problem}, status=503)
    state = secrets.token_urlsafe(16)
    verifier, challenge = client.pkce_pair()
    flow = {"state": state, "code_verifier": verifier, "dpop_key": fapi_client.new_dpop_key()}
    reply = fapi_client.push_authorization_request(flow, client.SAMPLE_TRANSFER, state, challenge)
    if reply.status != 201:
        request.session.pop(SESSION_KEY, None)
        return _page(request, {"push_error": reply.body, "status": reply.status}, status=502)
    flow["par_nonce_retried"] = reply.nonce_retried
    request.session[SESSION_KEY] = flow
    return redirect(fapi_client.authorize_url(reply.body["request_uri"]))


def owns_callback(request) -> bool:
    """Whether a GET of /demo/callback/ is the FAPI flow's: its ``state`` is the one this flow sent
    (both demo clients share the redirect URI)."""
    flow = request.session.get(SESSION_KEY) or {}
    return request.method == "GET" and bool(flow.get("state")) and request.GET.get("state") == flow["state"]


def _received(request, params) -> dict:
    flow = request.session.get(SESSION_KEY) or {}
    context = client.redirect_result(params, flow.get("state"))
    if flow.get("dpop_key"):
        context["dpop_jkt"] = fapi_client.dpop_jkt(flow["dpop_key"])
        context["par_nonce_retried"] = flow.get("par_nonce_retried", False)
    return context


def callback(request):
    """The redirect back with the code (called by demo_site.views.callback for this flow's state)."""
    return _page(request, _received(request, request.GET))


@require_POST
def token(request):
    """'Exchange the code for tokens': refused unless ``state`` and ``iss`` are the expected ones."""
    context = _received(request, request.POST)
    flow = request.session.get(SESSION_KEY) or {}
    if not (context["code"] and flow.get("code_verifier")):
        context["client_refused"] = "The demo FAPI client has no flow waiting for a code: start one."
        return _page(request, context, status=400)
    if not (context["state_matches"] and context["iss_matches"]):
        context["client_refused"] = (
            "The client does not use this code: its state or iss is not the one it expects "
            "(FAPI 2.0 clients check both, RFC 9207)."
        )
        return _page(request, context, status=400)
    reply = fapi_client.exchange_code(flow, context["code"], flow["code_verifier"])
    for used in ("state", "code_verifier"):
        flow.pop(used, None)
    context.update(_step("token", reply))
    if reply.status == 200 and reply.body.get("access_token"):
        flow["token"] = _held(reply.body)
    request.session[SESSION_KEY] = flow
    context.update(_token_context(flow))
    return _page(request, context)


def _step(name: str, reply) -> dict:
    return {
        f"{name}_status": reply.status,
        f"{name}_json": json.dumps(reply.body, indent=2),
        f"{name}_nonce_retried": reply.nonce_retried,
    }


def _held(body: dict, previous: dict | None = None) -> dict:
    """What the client keeps of a token response (a refresh may leave the refresh token out)."""
    return {
        "access_token": body["access_token"],
        "refresh_token": body.get("refresh_token") or (previous or {}).get("refresh_token"),
        "token_type": body.get("token_type"),
        "authorization_details": body.get("authorization_details") or [],
    }


def _token_context(flow: dict) -> dict:
    """The held token, decoded for display, and whether it is bound to this flow's DPoP key."""
    held = flow.get("token")
    if not held:
        return {}
    decoded = client.decode_jwt(held["access_token"]) or {"header": {}, "claims": {}}
    jkt = (decoded["claims"].get("cnf") or {}).get("jkt")
    return {
        "token_held": True,
        "token_type": held["token_type"],
        "dpop_jkt": fapi_client.dpop_jkt(flow["dpop_key"]),
        "cnf_jkt": jkt,
        "token_bound": jkt == fapi_client.dpop_jkt(flow["dpop_key"]),
        "jwt_header_json": json.dumps(decoded["header"], indent=2),
        "jwt_claims_json": json.dumps(decoded["claims"], indent=2),
        "can_transfer": _approved_transfer(held) is not None,
        "can_refresh": bool(held.get("refresh_token")),
    }


def _approved_transfer(held: dict) -> dict | None:
    for detail in held.get("authorization_details", []):
        if detail.get("type") == "money_transfer" and "instructedAmount" in detail:
            return detail
    return None


def _holding(request):
    """The flow with a token, or the page saying there is none (status 400)."""
    flow = request.session.get(SESSION_KEY) or {}
    if not flow.get("token"):
        context = {"client_refused": "The demo FAPI client holds no token: start a flow."}
        return None, _page(request, context, status=400)
    return flow, None


@require_POST
def transfer(request):
    """Call the Payments API with the held token: as ``DPoP`` with a proof, or as ``Bearer`` (refused)."""
    flow, refused = _holding(request)
    if refused:
        return refused
    detail = _approved_transfer(flow["token"])
    if detail is None:
        return _page(request, {"client_refused": "The token has no money transfer."}, status=400)
    scheme = "Bearer" if request.POST.get("scheme") == "bearer" else "DPoP"
    body = client.transfer_request(detail)
    reply = fapi_client.call_transfers_api(flow, flow["token"]["access_token"], body, scheme=scheme)
    request.session[SESSION_KEY] = flow
    context = _token_context(flow)
    context.update(
        api_scheme=scheme,
        api_request_json=json.dumps(body, indent=2),
        api_status=reply.status,
        api_response_json=json.dumps(reply.body, indent=2),
        api_www_authenticate=reply.headers.get("www-authenticate", ""),
        api_nonce_retried=reply.nonce_retried,
        api_executed=reply.status == 201,
    )
    return _page(request, context)


@require_POST
def refresh(request):
    """'Refresh': a new access token with private_key_jwt and a proof of the same DPoP key."""
    flow, refused = _holding(request)
    if refused:
        return refused
    before = _token_context(flow)["cnf_jkt"]
    reply = fapi_client.refresh(flow, flow["token"]["refresh_token"] or "")
    context = _step("refresh", reply)
    if reply.status == 200 and reply.body.get("access_token"):
        flow["token"] = _held(reply.body, flow["token"])
    request.session[SESSION_KEY] = flow
    context.update(_token_context(flow))
    context.update(refreshed=reply.status == 200, previous_cnf_jkt=before)
    return _page(request, context)
