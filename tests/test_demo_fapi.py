"""The demo's "Try the FAPI 2.0 flow" (issue 12 point 6): client ``demo-fapi`` with private_key_jwt,
DPoP, PAR, PKCE S256 and RAR, from the home page to a refreshed, still bound token.

The flow tests run a live server: the demo client (demo_site/fapi_client.py) talks to it over
loopback HTTP, as in ``make demo``; the browser is Django's test client. ``manage.py
rar_demo_fapi_client --if-missing`` (what ``make demo`` runs) registers the client, its key in a
temporary file. What the client claims on its page is checked against the server: the token's
signature and ``cnf.jkt``, the recorded binding, the executed transfer.
"""

from __future__ import annotations

import json
import re
from io import StringIO
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from django.core.management import CommandError, call_command
from jwcrypto import jwk
from oauth2_provider.models import AccessToken, Application

from demo_site import client as demo_client
from demo_site import fapi_client, fapi_views
from demo_site.payments.models import Transfer
from rar_provider import access_tokens, keys
from rar_provider.models import ClientPolicy, IssuedAccessToken, PushedAuthorizationRequest, ResourceServer

from .conftest import AUTHORIZE_URL, ISSUER, MONEY_TRANSFER, REDIRECT_URI

ROOT = Path(__file__).resolve().parent.parent
CLIENT_ID = "demo-fapi"


def run_command(*args) -> str:
    out = StringIO()
    call_command("rar_demo_fapi_client", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def key_path(settings, tmp_path) -> Path:
    """The demo FAPI client's key file, in a temporary var/ (never the checkout's)."""
    path = tmp_path / "var" / "demo-fapi-key.json"
    settings.DEMO_FAPI_KEY_FILE = str(path)
    return path


@pytest.fixture
def fapi_demo(live_server, load_demo_data, settings, key_path):
    """The live server, and demo-fapi registered by the command `make demo` runs."""
    settings.DEMO_AS_URL = live_server.url
    assert "written to" in run_command("--if-missing")
    return live_server


def verified_claims(token: str) -> dict:
    """The access token's claims, its signature checked with the server's keys."""
    return access_tokens.verify(token, keys.public_key_set(), issuer=ISSUER, audience="urn:demo:payments")


def the_flow_to_the_token(client) -> dict:
    """home → start → login → consent → callback → code exchange; the token page's context."""
    home = client.get("/")
    assert b"Try the FAPI 2.0 flow" in home.content
    assert re.search(rb'<form method="post" action="/demo/fapi/start/">', home.content)

    started = client.post("/demo/fapi/start/")
    assert started.status_code == 302, started.content[:2000]
    authorize = started["Location"]
    query = parse_qs(urlparse(authorize).query)
    assert urlparse(authorize).path == AUTHORIZE_URL and set(query) == {"client_id", "request_uri"}
    assert query["client_id"] == [CLIENT_ID]
    flow = client.session[fapi_views.SESSION_KEY]
    jkt = fapi_client.dpop_jkt(flow["dpop_key"])
    # The server bound the pushed request to the flow's DPoP key (RFC 9449 §10), with PKCE S256.
    pushed = PushedAuthorizationRequest.objects.get(application__client_id=CLIENT_ID)
    parameters = dict(pushed.parameters)
    assert parameters["dpop_jkt"] == jkt and parameters["code_challenge_method"] == "S256"
    assert pushed.authorization_details == [MONEY_TRANSFER]

    to_login = client.get(authorize)
    assert to_login["Location"].startswith("/accounts/login/")
    client.post(to_login["Location"], {"username": "alice", "password": "wonderland-42", "next": authorize})
    consent = client.get(authorize)
    assert b"Hanna Herwitz" in consent.content
    decision = client.post(
        AUTHORIZE_URL, {"transaction": consent.context["transaction"], "decision": "allow"}
    )
    assert decision["Location"].startswith(REDIRECT_URI)
    callback = urlparse(decision["Location"])

    shown = client.get(f"{callback.path}?{callback.query}")
    assert "demo/fapi.html" in [t.name for t in shown.templates]
    assert shown.context["state_matches"] and shown.context["iss_matches"]
    assert shown.context["dpop_jkt"] == jkt
    assert b"Exchange the code for tokens" in shown.content
    exchanged = client.post(
        "/demo/fapi/token/",
        {"code": shown.context["code"], "state": shown.context["state"], "iss": shown.context["iss"]},
    )
    assert exchanged.status_code == 200
    context = exchanged.context
    assert context["token_status"] == 200, context["token_json"]
    return {"context": context, "html": exchanged.content.decode(), "jkt": jkt}


def held_token(client) -> str:
    return client.session[fapi_views.SESSION_KEY]["token"]["access_token"]


def assert_bound(client, jkt: str, context) -> str:
    """The held token is a DPoP token bound to ``jkt``: on the page, in the JWT and in the database."""
    token = held_token(client)
    assert context["token_type"] == "DPoP" and context["cnf_jkt"] == jkt and context["token_bound"]
    assert verified_claims(token)["cnf"] == {"jkt": jkt}
    assert IssuedAccessToken.objects.get(access_token=AccessToken.objects.get(token=token)).dpop_jkt == jkt
    return token


def call_api(client, scheme: str):
    response = client.post("/demo/fapi/transfer/", {"scheme": scheme})
    assert response.status_code == 200
    return response.context


@pytest.mark.django_db(transaction=True)
def test_the_fapi_flow_from_the_home_page_to_a_refreshed_bound_token(client, fapi_demo):
    done = the_flow_to_the_token(client)
    jkt, context = done["jkt"], done["context"]
    token = assert_bound(client, jkt, context)
    assert f'<code id="cnf-jkt">{jkt}</code>' in done["html"]
    assert '<code id="token-type">DPoP</code>' in done["html"]
    assert json.loads(context["token_json"])["authorization_details"] == [MONEY_TRANSFER]

    # The Payments API with the DPoP scheme and a proof carrying ath: executed, once.
    called = call_api(client, "dpop")
    assert (called["api_scheme"], called["api_status"]) == ("DPoP", 201), called["api_response_json"]
    transfer = Transfer.objects.get()
    assert transfer.client_id == CLIENT_ID and transfer.beneficiary == "Hanna Herwitz"

    # The same token as a bearer token: refused for being DPoP-bound (RFC 9449 §7.2), nothing executed.
    refused = call_api(client, "bearer")
    assert (refused["api_scheme"], refused["api_status"]) == ("Bearer", 401)
    challenge = refused["api_www_authenticate"]
    assert (
        challenge.startswith("DPoP ") and 'error="invalid_token"' in challenge and "DPoP-bound" in challenge
    )
    assert Transfer.objects.count() == 1

    # Refresh with private_key_jwt and a proof of the same key: a new token, bound to the same key.
    refreshed = client.post("/demo/fapi/refresh/")
    assert refreshed.status_code == 200
    context = refreshed.context
    assert context["refresh_status"] == 200, context["refresh_json"]
    assert context["refreshed"] and context["previous_cnf_jkt"] == jkt
    assert held_token(client) != token
    assert_bound(client, jkt, context)
    assert b"It is still bound to the same key" in refreshed.content
    assert call_api(client, "bearer")["api_status"] == 401


STRICT = {"PAR_REQUIRED": True, "DPOP_REQUIRED": True, "DPOP_NONCE_REQUIRED": True}


@pytest.mark.parametrize(
    "strict, per_api",
    [
        pytest.param(STRICT, False, id="par-dpop-nonces-required"),
        pytest.param({**STRICT, "FAPI_2_0": True}, False, id="fapi-2.0-mode"),
        pytest.param(STRICT, True, id="fapi-2.0-for-the-payments-api"),
    ],
)
@pytest.mark.django_db(transaction=True)
def test_the_flow_passes_fapi_mode_and_a_server_that_asks_for_nonces(
    client, fapi_demo, settings, strict, per_api
):
    """FAPI 2.0 mode (rar_provider.fapi; global, or the API's flag) and nonces at the authorization
    server and the API (RFC 9449 §8, §9): the client retries once with the nonce it was sent, then
    keeps using it."""
    ResourceServer.objects.filter(identifier="urn:demo:payments").update(fapi_2_0=per_api)
    settings.RAR_PROVIDER = {**settings.RAR_PROVIDER, **strict}
    settings.RAR_PROVIDER_RESOURCE_SERVER = {"DPOP_NONCE_REQUIRED": True}
    settings.REST_FRAMEWORK = {"EXCEPTION_HANDLER": "rar_provider.drf.exception_handler"}
    # The mode is on: the shared-secret demo client is refused for the same transfer.
    secret_push = demo_client.push_authorization_request(demo_client.SAMPLE_TRANSFER, "s", "x" * 43)
    fapi = per_api or strict.get("FAPI_2_0", False)
    assert (secret_push.status, secret_push.body.get("error")) == (
        (400, "unauthorized_client") if fapi else (201, None)
    ), secret_push.body
    done = the_flow_to_the_token(client)
    assert client.session[fapi_views.SESSION_KEY]["par_nonce_retried"] is True
    assert not done["context"]["token_nonce_retried"]  # the nonce from PAR was used at once
    assert_bound(client, done["jkt"], done["context"])

    called = call_api(client, "dpop")
    assert called["api_status"] == 201 and called["api_nonce_retried"], called["api_response_json"]
    refreshed = client.post("/demo/fapi/refresh/").context
    assert refreshed["refresh_status"] == 200 and not refreshed["refresh_nonce_retried"]
    assert_bound(client, done["jkt"], refreshed)
    assert call_api(client, "bearer")["api_status"] == 401


# -- not set up, and what the client refuses ----------------------------------------------------------


@pytest.mark.django_db
def test_without_the_command_the_pages_say_run_make_demo(client, key_path):
    home = client.get("/").content.decode()
    assert "The FAPI client is not set up yet" in home and "<code>make demo</code>" in home
    assert "/demo/fapi/start/" not in home
    assert "Try a money transfer" in home  # the other flow is untouched
    started = client.post("/demo/fapi/start/")
    assert started.status_code == 503
    assert "does not exist" in started.context["setup_problem"]
    assert b"Run <code>make demo</code>" in started.content
    assert not PushedAuthorizationRequest.objects.exists()


@pytest.mark.django_db
def test_a_key_file_without_its_registration_is_named(client, key_path):
    run_command()
    Application.objects.filter(client_id=CLIENT_ID).delete()
    started = client.post("/demo/fapi/start/")
    assert started.status_code == 503 and "demo-fapi is not registered" in started.context["setup_problem"]
    run_command("--if-missing")
    assert fapi_views.setup_problem() is None


@pytest.mark.django_db
def test_the_client_does_not_use_a_code_from_another_issuer(client, key_path, monkeypatch):
    monkeypatch.setattr(fapi_client, "exchange_code", lambda *a: pytest.fail("the code was sent"))
    session = client.session
    session[fapi_views.SESSION_KEY] = {
        "state": "s",
        "code_verifier": "v",
        "dpop_key": fapi_client.new_dpop_key(),
    }
    session.save()
    for state, iss in (("s", "https://evil.example"), ("other", ISSUER)):
        response = client.post("/demo/fapi/token/", {"code": "c", "state": state, "iss": iss})
        assert response.status_code == 400
        assert "RFC 9207" in response.context["client_refused"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/demo/fapi/transfer/", "/demo/fapi/refresh/", "/demo/fapi/token/"])
def test_the_steps_need_a_flow(client, path):
    response = client.post(path, {"code": "c", "state": "s", "iss": ISSUER})
    assert response.status_code == 400 and "start" in response.context["client_refused"]
    assert client.get(path).status_code == 405


@pytest.mark.django_db
def test_the_other_flows_callback_is_not_taken(client, key_path):
    """Both demo clients share the redirect URI: only the FAPI flow's own state goes to its page."""
    session = client.session
    session[fapi_views.SESSION_KEY] = {"state": "fapi-state", "dpop_key": fapi_client.new_dpop_key()}
    session.save()
    mine = client.get("/demo/callback/", {"code": "c", "state": "fapi-state", "iss": ISSUER})
    assert "demo/fapi.html" in [t.name for t in mine.templates]
    other = client.get("/demo/callback/", {"code": "c", "state": "someone-else", "iss": ISSUER})
    assert "demo/callback.html" in [t.name for t in other.templates]


def test_a_proof_and_an_assertion_say_what_the_rfcs_ask(settings, key_path):
    """The client's own JWTs, read back: RFC 9449 §4.2 and RFC 7523 §3 (the server's checks are
    exercised by the live tests above)."""
    private = fapi_client.new_dpop_key()
    proof = fapi_client.dpop_proof(private, "POST", "http://x/api/", nonce="n-1", access_token="tok")
    header, claims = (json.loads(jwk.base64url_decode(part)) for part in proof.split(".")[:2])
    assert header["typ"] == "dpop+jwt" and header["alg"] == "ES256" and "d" not in header["jwk"]
    assert jwk.JWK(**header["jwk"]).thumbprint() == fapi_client.dpop_jkt(private)
    assert claims["htm"] == "POST" and claims["htu"] == "http://x/api/" and claims["nonce"] == "n-1"
    assert claims["ath"] == fapi_client.access_token_hash("tok") and claims["jti"] and claims["iat"]

    key = jwk.JWK.generate(kty="EC", crv="P-256", kid="k1", alg="ES256")
    header, claims = (
        json.loads(jwk.base64url_decode(part)) for part in fapi_client.client_assertion(key).split(".")[:2]
    )
    assert header == {"alg": "ES256", "kid": "k1"}
    assert claims["iss"] == claims["sub"] == CLIENT_ID and claims["aud"] == ISSUER
    assert 0 < claims["exp"] - claims["iat"] <= 60 and len(claims["jti"]) >= 32
    assert fapi_client.client_assertion(key) != fapi_client.client_assertion(key)  # a new jti each time


# -- the command `make demo` runs --------------------------------------------------------------------


@pytest.mark.django_db
def test_if_missing_changes_nothing_once_registered_and_repairs_what_is_missing(key_path):
    assert "written to" in run_command("--if-missing")
    kid = json.loads(key_path.read_text())["keys"][0]["kid"]
    # An operator changes the client in admin; the next `make demo` keeps it.
    ClientPolicy.objects.filter(application__client_id=CLIENT_ID).update(require_signed_request_object=True)
    assert "nothing changed" in run_command("--if-missing")
    assert ClientPolicy.objects.get(application__client_id=CLIENT_ID).require_signed_request_object

    # The client is gone (make demo-reset): registered again with the key in the file.
    Application.objects.filter(client_id=CLIENT_ID).delete()
    assert "kept in" in run_command("--if-missing")
    assert json.loads(key_path.read_text())["keys"][0]["kid"] == kid
    assert fapi_views.setup_problem() is None

    # The key file is gone: a new key, registered in place of the old one.
    key_path.unlink()
    assert "written to" in run_command("--if-missing")
    new_kid = json.loads(key_path.read_text())["keys"][0]["kid"]
    policy = ClientPolicy.objects.get(application__client_id=CLIENT_ID)
    assert new_kid != kid and [k["kid"] for k in json.loads(policy.jwks)["keys"]] == [new_kid]
    assert fapi_views.setup_problem() is None

    # The redirect URI was removed in admin: added back.
    Application.objects.filter(client_id=CLIENT_ID).update(redirect_uris="http://127.0.0.1:9/other/")
    run_command("--if-missing")
    assert REDIRECT_URI in Application.objects.get(client_id=CLIENT_ID).redirect_uris.split()

    with pytest.raises(CommandError):
        run_command("--if-missing", "--rotate")


def test_make_demo_and_demo_reset_register_the_fapi_client_after_the_demo_data():
    makefile = (ROOT / "Makefile").read_text()
    # The target runs after the demo data whatever make's -j: it depends on them.
    assert re.search(
        r"^fapi-client: fixtures\n\t.*rar_demo_fapi_client --if-missing\n", makefile, re.MULTILINE
    )
    for target in ("demo", "demo-reset"):
        recipe = re.search(rf"^{target}:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE).group(1).splitlines()
        registers = [
            i for i, line in enumerate(recipe) if re.search(r"fapi-client|rar_demo_fapi_client", line)
        ]
        loads = [i for i, line in enumerate(recipe) if "rar_demo_load --reset" in line]
        served = next(i for i, line in enumerate(recipe) if "runserver" in line)
        assert len(registers) == 1 and max(loads, default=-1) < registers[0] < served, recipe
