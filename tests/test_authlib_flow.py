"""A whole flow with a real client library (Authlib's requests OAuth2Session) against a live server.

The client discovers the server from its metadata, pushes its request (RFC 9126) or sends it on the
front channel with PKCE, the "browser" (a requests.Session) logs alice in and approves, and the
client exchanges the code and refreshes the token; the JWT access token is verified with the keys
fetched from ``jwks_uri`` over HTTP (TOK-01, TOK-02, RAR-10, RAR-14). Loopback only.

As in test_e2e.py, the registered redirect URI stays http://127.0.0.1:8000/demo/callback/: the
browser does not follow the redirect to it, the client reads the code from its Location. The issuer
is set to the live server's URL so that discovery and ``iss`` are consistent.
"""

from __future__ import annotations

import json
import secrets
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urljoin, urlparse

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from jwcrypto import jwk

from rar_provider import access_tokens

from .conftest import MONEY_TRANSFER, REDIRECT_URI

pytestmark = pytest.mark.django_db(transaction=True)

TIMEOUT = 10


class FormFields(HTMLParser):
    """The named <input> values of each POST form of a page."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict[str, str]] = []
        self.in_form = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form" and (attributes.get("method") or "").lower() == "post":
            self.in_form = True
            self.forms.append({})
        elif tag == "input" and self.in_form and attributes.get("name"):
            self.forms[-1][attributes["name"]] = attributes.get("value") or ""

    def handle_endtag(self, tag):
        if tag == "form":
            self.in_form = False


def form_fields(html: str, containing: str = "csrfmiddlewaretoken") -> dict[str, str]:
    """The first POST form with a field named ``containing`` (a page may have a logout form too)."""
    parser = FormFields()
    parser.feed(html)
    return next((form for form in parser.forms if containing in form), {})


@pytest.fixture
def server(live_server, load_demo_data, settings):
    """The live server as the issuer (its metadata, iss and jwks_uri name it)."""
    settings.RAR_PROVIDER = {**settings.RAR_PROVIDER, "ISSUER": live_server.url}
    settings.DEMO_AS_URL = live_server.url
    return live_server.url


@pytest.fixture
def metadata(server) -> dict:
    response = requests.get(f"{server}/.well-known/oauth-authorization-server", timeout=TIMEOUT)
    assert response.status_code == 200
    data = response.json()
    assert data["issuer"] == server
    return data


def fetch_key_set(metadata: dict) -> jwk.JWKSet:
    response = requests.get(metadata["jwks_uri"], timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/jwk-set+json"
    return jwk.JWKSet.from_json(response.text)


def browser_approves(server: str, authorization_url: str) -> str:
    """alice's browser: authorize → login form → consent form → the redirect to the client."""
    with requests.Session() as browser:
        return _approve(browser, server, authorization_url)


def _approve(browser: requests.Session, server: str, authorization_url: str) -> str:
    to_login = browser.get(authorization_url, allow_redirects=False, timeout=TIMEOUT)
    assert to_login.status_code == 302, to_login.text[:500]
    login_url = urljoin(server, to_login.headers["Location"])
    assert urlparse(login_url).path == "/accounts/login/"
    login_page = browser.get(login_url, timeout=TIMEOUT)
    fields = form_fields(login_page.text, "username")
    assert fields["csrfmiddlewaretoken"] and fields["next"]
    logged_in = browser.post(
        login_url,
        data={**fields, "username": "alice", "password": "wonderland-42"},
        headers={"Referer": login_url},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert logged_in.status_code == 302, logged_in.text[:500]
    back = urljoin(server, logged_in.headers["Location"])
    assert back == authorization_url
    consent = browser.get(back, allow_redirects=False, timeout=TIMEOUT)
    assert consent.status_code == 200, consent.text[:500]
    assert "Hanna Herwitz" in consent.text
    fields = form_fields(consent.text, "transaction")
    assert fields["transaction"] and fields["csrfmiddlewaretoken"]
    decision = browser.post(
        urljoin(server, urlparse(authorization_url).path),
        data={**fields, "decision": "allow"},
        headers={"Referer": back},
        allow_redirects=False,  # the callback is the client's: not followed
        timeout=TIMEOUT,
    )
    assert decision.status_code == 302, decision.text[:500]
    location = decision.headers["Location"]
    assert location.startswith(REDIRECT_URI), location
    return location


@pytest.fixture
def client_session():
    """Authlib sessions made by a test, closed after it (no connection left to the live server)."""
    made: list[OAuth2Session] = []

    def make(**kwargs) -> OAuth2Session:
        session = OAuth2Session(redirect_uri=REDIRECT_URI, code_challenge_method="S256", **kwargs)
        made.append(session)
        return session

    yield make
    for session in made:
        session.close()


def check_token(token: dict, metadata: dict, client_id: str) -> dict:
    assert token["token_type"].lower() == "bearer"
    assert token["authorization_details"] == [MONEY_TRANSFER]
    claims = access_tokens.verify(
        token["access_token"],
        fetch_key_set(metadata),
        issuer=metadata["issuer"],
        audience="urn:demo:payments",
    )
    assert claims["authorization_details"] == [MONEY_TRANSFER]
    assert claims["client_id"] == client_id and claims["aud"] == "urn:demo:payments"
    return claims


def test_authlib_par_pkce_code_flow_and_refresh(metadata, server, alice, client_session):
    session = client_session(
        client_id="demo-client",
        client_secret="demo-secret",
        token_endpoint_auth_method="client_secret_basic",
    )
    verifier = secrets.token_urlsafe(48)
    state = secrets.token_urlsafe(16)
    # RFC 9126 §2.1: the client authenticates at the PAR endpoint as at the token endpoint.
    pushed = session.post(
        metadata["pushed_authorization_request_endpoint"],
        data={
            "client_id": "demo-client",
            "response_type": "code",
            "redirect_uri": REDIRECT_URI,
            "state": state,
            "code_challenge": create_s256_code_challenge(verifier),
            "code_challenge_method": "S256",
            "authorization_details": json.dumps([MONEY_TRANSFER]),
        },
        auth=session.client_auth("client_secret_basic"),
        timeout=TIMEOUT,
    )
    assert pushed.status_code == 201, pushed.text
    request_uri = pushed.json()["request_uri"]
    query = urlencode({"client_id": "demo-client", "request_uri": request_uri})
    authorization_url = f"{metadata['authorization_endpoint']}?{query}"
    callback = browser_approves(server, authorization_url)
    query = {k: v[0] for k, v in parse_qs(urlparse(callback).query).items()}
    assert query["state"] == state and query["iss"] == metadata["issuer"]  # RFC 9207

    token = session.fetch_token(
        metadata["token_endpoint"], authorization_response=callback, state=state, code_verifier=verifier
    )
    claims = check_token(token, metadata, "demo-client")
    assert claims["sub"] == str(alice.pk) and claims["iss"] == server

    # The session now uses the token like any client library; refresh keeps the details.
    refreshed = session.refresh_token(metadata["token_endpoint"], refresh_token=token["refresh_token"])
    assert refreshed["access_token"] != token["access_token"]
    refreshed_claims = check_token(refreshed, metadata, "demo-client")
    assert refreshed_claims["jti"] != claims["jti"] and refreshed_claims["sub"] == str(alice.pk)
    assert session.token["access_token"] == refreshed["access_token"]


def test_authlib_front_channel_public_client_with_pkce(metadata, server, client_session):
    session = client_session(
        client_id="demo-public",
        token_endpoint_auth_method="none",
    )
    verifier = secrets.token_urlsafe(48)
    authorization_url, state = session.create_authorization_url(
        metadata["authorization_endpoint"],
        code_verifier=verifier,
        authorization_details=json.dumps([MONEY_TRANSFER]),
    )
    sent = parse_qs(urlparse(authorization_url).query)
    assert sent["code_challenge_method"] == ["S256"] and sent["authorization_details"]
    callback = browser_approves(server, authorization_url)
    token = session.fetch_token(
        metadata["token_endpoint"], authorization_response=callback, code_verifier=verifier
    )
    check_token(token, metadata, "demo-public")
    refreshed = session.refresh_token(metadata["token_endpoint"], refresh_token=token["refresh_token"])
    check_token(refreshed, metadata, "demo-public")


def test_authlib_code_without_the_verifier_is_refused(metadata, server, client_session):
    session = client_session(
        client_id="demo-public",
        token_endpoint_auth_method="none",
    )
    authorization_url, _ = session.create_authorization_url(
        metadata["authorization_endpoint"],
        code_verifier=secrets.token_urlsafe(48),
        authorization_details=json.dumps([MONEY_TRANSFER]),
    )
    callback = browser_approves(server, authorization_url)
    from authlib.integrations.base_client import OAuthError

    with pytest.raises(OAuthError) as raised:
        session.fetch_token(
            metadata["token_endpoint"],
            authorization_response=callback,
            code_verifier=secrets.token_urlsafe(48),
        )
    assert raised.value.error == "invalid_grant"
