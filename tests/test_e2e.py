"""Whole flows through the real endpoints: PAR → authorize → login → consent → code → token.

The first test drives the endpoints with Django's test client and a real login form.
The demo tests run a live server: the demo client talks to it over HTTP (loopback),
exactly as in ``make demo``.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from urllib.parse import urlencode, urlparse

import pytest
from django.test import override_settings

from rar_provider import signals

from .conftest import (
    AUTHORIZE_URL,
    ISSUER,
    MONEY_TRANSFER,
    PAR_URL,
    authorize_query,
    basic,
    exchange,
    post_form,
    redirect_params,
)

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.django_db
def test_e2e_par_authorize_login_consent_code_token(client):
    received = []

    def remember(signal_name):
        def handler(sender, **kwargs):
            received.append((signal_name, kwargs))

        return handler

    handlers = {name: remember(name) for name in ("par_pushed", "authorization_requested", "details_granted")}
    for name, handler in handlers.items():
        getattr(signals, name).connect(handler)
    try:
        # 1. The client pushes its request on the back channel.
        pushed = post_form(
            client,
            PAR_URL,
            {
                "client_id": "demo-client",
                "response_type": "code",
                "redirect_uri": "http://127.0.0.1:8000/demo/callback/",
                "state": "e2e-state",
                "authorization_details": '[{"type": "money_transfer", "instructedAmount": {"amount": 2500, '
                '"currency": "USD"}, "sourceAccount": "xxxxxxxxxxx1234", "destinationAccount": '
                '"xxxxxxxxxxx9876", "beneficiary": "Hanna Herwitz", "subject": '
                '"A Lannister Always Pays His Debts"}]',
            },
            **basic("demo-client", "demo-secret"),
        )
        assert pushed.status_code == 201
        request_uri = pushed.json()["request_uri"]

        # 2. The browser goes to /oauth/authorize and is asked to log in.
        authorize = f"{AUTHORIZE_URL}?{urlencode(authorize_query(request_uri))}"
        to_login = client.get(authorize)
        assert to_login.status_code == 302
        login_url = to_login["Location"]
        login_page = client.get(login_url)
        assert login_page.status_code == 200
        # 3. alice logs in with the real form and comes back to the authorization endpoint.
        logged_in = client.post(
            login_url, {"username": "alice", "password": "wonderland-42", "next": authorize}
        )
        assert logged_in.status_code == 302 and logged_in["Location"] == authorize
        # 4. The consent page shows the transfer in plain words.
        consent = client.get(authorize)
        html = consent.content.decode()
        assert "2,500.00 USD" in html and "Hanna Herwitz" in html
        # 5. alice approves; the client gets a code, its state and the issuer.
        decision = client.post(
            AUTHORIZE_URL, {"transaction": consent.context["transaction"], "decision": "allow"}
        )
        params = redirect_params(decision)
        assert params["state"] == "e2e-state" and params["iss"] == ISSUER
        # 6. The code is exchanged for tokens that carry the approved details.
        tokens = exchange(client, params["code"])
        assert tokens.status_code == 200, tokens.content
        body = tokens.json()
        assert body["authorization_details"] == [MONEY_TRANSFER]
        assert body["token_type"] == "Bearer" and body["access_token"] and body["refresh_token"]
        assert tokens["Cache-Control"] == "no-store"
    finally:
        for name, handler in handlers.items():
            getattr(signals, name).disconnect(handler)

    assert [name for name, _ in received] == ["par_pushed", "authorization_requested", "details_granted"]
    requested = received[1][1]
    assert requested["user"].username == "alice"
    assert requested["client"].client_id == "demo-client"
    assert requested["authorization_details"] == [MONEY_TRANSFER]
    assert requested["resource_server"].identifier == "urn:demo:payments"


@pytest.fixture
def demo_server(live_server, load_demo_data, settings):
    """The demo client talks to a live server over loopback HTTP."""
    settings.DEMO_AS_URL = live_server.url
    return live_server


@pytest.mark.django_db(transaction=True)
def test_demo_try_a_money_transfer(client, demo_server):
    """The landing page's button runs a real PAR flow and the callback exchanges the code."""
    home = client.get("/")
    assert b"Try a money transfer" in home.content
    started = client.post("/demo/start/")
    assert started.status_code == 302
    authorize = started["Location"]
    assert authorize.startswith("/oauth/authorize?client_id=demo-client&request_uri=urn")
    to_login = client.get(authorize)
    assert to_login["Location"].startswith("/accounts/login/")
    client.post(to_login["Location"], {"username": "alice", "password": "wonderland-42", "next": authorize})
    consent = client.get(authorize)
    assert b"Hanna Herwitz" in consent.content
    decision = client.post(
        AUTHORIZE_URL, {"transaction": consent.context["transaction"], "decision": "allow"}
    )
    callback = urlparse(decision["Location"])
    assert callback.path == "/demo/callback/"
    shown = client.get(f"{callback.path}?{callback.query}")
    assert shown.context["code"] and shown.context["state_matches"] and shown.context["iss_matches"]
    exchanged = client.post(
        callback.path,
        {"code": shown.context["code"], "state": shown.context["state"], "iss": shown.context["iss"]},
    )
    assert exchanged.context["token_status"] == 200, exchanged.context["token_response"]
    assert exchanged.context["token_response"]["authorization_details"] == [MONEY_TRANSFER]
    assert b"authorization_details" in exchanged.content


@pytest.mark.django_db(transaction=True)
def test_demo_deny_reaches_callback_with_access_denied(client, demo_server, alice):
    client.force_login(alice)
    authorize = client.post("/demo/start/")["Location"]
    consent = client.get(authorize)
    decision = client.post(AUTHORIZE_URL, {"transaction": consent.context["transaction"], "decision": "deny"})
    callback = urlparse(decision["Location"])
    shown = client.get(f"{callback.path}?{callback.query}")
    assert shown.context["error"] == "access_denied"
    assert b"access_denied" in shown.content


def readme_curl(endpoint: str = "par", containing: str = "") -> tuple[tuple[str, str], list[tuple[str, str]]]:
    """The README's first `curl … /oauth/<endpoint>` example (with ``containing``), parsed:
    its -u credentials and form fields."""
    text = (ROOT / "README.md").read_text()
    pattern = r"```sh\n(curl -s -X POST http://127\.0\.0\.1:8000/oauth/" + endpoint + r" .*?)```"
    blocks = [b for b in re.findall(pattern, text, re.S) if containing in b]
    assert blocks, f"README lost its {endpoint} curl example"
    words = shlex.split(blocks[0].replace("\\\n", " "))
    user = words[words.index("-u") + 1].split(":", 1)
    data_flags = ("-d", "--data-urlencode")
    fields = [tuple(words[i + 1].split("=", 1)) for i, w in enumerate(words) if w in data_flags]
    return (user[0], user[1]), fields


def readme_curl_par() -> tuple[tuple[str, str], list[tuple[str, str]]]:
    return readme_curl("par")


@pytest.mark.django_db
def test_readme_curl_client_credentials_call(client):
    (client_id, secret), fields = readme_curl("token", "client_credentials")
    assert ("grant_type", "client_credentials") in fields
    response = post_form(client, "/oauth/token", dict(fields), **basic(client_id, secret))
    assert response.status_code == 200, response.content
    assert response.json()["authorization_details"] == json.loads(dict(fields)["authorization_details"])


@pytest.mark.django_db
def test_readme_curl_par_call_returns_201_and_flow_completes(alice_client):
    (client_id, secret), fields = readme_curl_par()
    response = post_form(alice_client, PAR_URL, dict(fields), **basic(client_id, secret))
    assert response.status_code == 201, response.content
    request_uri = response.json()["request_uri"]
    page = alice_client.get(AUTHORIZE_URL, authorize_query(request_uri))
    decision = alice_client.post(
        AUTHORIZE_URL, {"transaction": page.context["transaction"], "decision": "allow"}
    )
    params = redirect_params(decision)
    assert params["state"] == "curl-1"
    tokens = exchange(alice_client, params["code"])
    assert tokens.json()["authorization_details"][0]["beneficiary"] == "Hanna Herwitz"


@override_settings(RAR_PROVIDER={"ISSUER": "https://auth.example.com"})
@pytest.mark.django_db
def test_iss_follows_configured_issuer(alice_client):
    from .conftest import approve, pushed_request_uri

    response = approve(alice_client, pushed_request_uri(alice_client))
    assert redirect_params(response)["iss"] == "https://auth.example.com"
