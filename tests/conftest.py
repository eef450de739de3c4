"""Shared fixtures: the demo data (fixtures/) loaded once, and small protocol helpers."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from django.core.management import call_command

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = sorted(str(p) for p in (ROOT / "fixtures").glob("*.json"))
#: Where the browser tests (tests/test_browser.py) save their screenshots; printed after the run.
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
SCREENSHOTS_TAKEN: list[Path] = []

ISSUER = "http://127.0.0.1:8000"
REDIRECT_URI = "http://127.0.0.1:8000/demo/callback/"
PAR_URL = "/oauth/par"
AUTHORIZE_URL = "/oauth/authorize"
TOKEN_URL = "/oauth/token"
REQUEST_URI_PREFIX = "urn:ietf:params:oauth:request_uri:"

MONEY_TRANSFER = {
    "type": "money_transfer",
    "instructedAmount": {"amount": 2500, "currency": "USD"},
    "sourceAccount": "xxxxxxxxxxx1234",
    "destinationAccount": "xxxxxxxxxxx9876",
    "beneficiary": "Hanna Herwitz",
    "subject": "A Lannister Always Pays His Debts",
}


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Load the demo data once; each test's transaction is rolled back on top of it."""
    with django_db_blocker.unblock():
        call_command("loaddata", *FIXTURES, verbosity=0)


@pytest.fixture
def load_demo_data():
    """For transactional tests (the database is flushed after each): load the demo data again."""
    call_command("loaddata", *FIXTURES, verbosity=0)


def basic(client_id: str, secret: str) -> dict[str, str]:
    token = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"HTTP_AUTHORIZATION": f"Basic {token}"}


CONFIDENTIAL = basic("demo-client", "demo-secret")


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def request_params(details=None, **overrides) -> dict:
    params = {
        "client_id": "demo-client",
        "response_type": "code",
        "redirect_uri": REDIRECT_URI,
        "state": "st-123",
    }
    if details is not None:
        params["authorization_details"] = details if isinstance(details, str) else json.dumps(details)
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


FORM = "application/x-www-form-urlencoded"


def post_form(client, url: str, data: dict, **extra):
    """POST ``data`` as application/x-www-form-urlencoded, as OAuth clients do."""
    return client.post(url, urlencode(data, doseq=True), content_type=FORM, **extra)


def push(client, details=None, auth=CONFIDENTIAL, **overrides):
    """POST a pushed authorization request and return the response."""
    return post_form(client, PAR_URL, request_params(details, **overrides), **auth)


def pushed_request_uri(client, details=None, **overrides) -> str:
    response = push(client, details if details is not None else [MONEY_TRANSFER], **overrides)
    assert response.status_code == 201, response.content
    return response.json()["request_uri"]


def authorize_query(request_uri: str, client_id: str = "demo-client") -> dict:
    return {"client_id": client_id, "request_uri": request_uri}


def redirect_params(response) -> dict[str, str]:
    """The query of a redirect to the client, as single values."""
    assert response.status_code == 302, (response.status_code, response.content[:500])
    location = response["Location"]
    assert location.startswith(REDIRECT_URI), location
    return {k: v[0] for k, v in parse_qs(urlparse(location).query).items()}


def consent_transaction(response) -> str:
    """The signed transaction field of a rendered consent page."""
    assert response.status_code == 200, response.content[:500]
    return response.context["transaction"]


def approve(client, request_uri: str, decision: str = "allow", client_id: str = "demo-client"):
    page = client.get(AUTHORIZE_URL, authorize_query(request_uri, client_id))
    return client.post(AUTHORIZE_URL, {"transaction": consent_transaction(page), "decision": decision})


def exchange(client, code: str, auth=CONFIDENTIAL, **extra):
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI, **extra}
    return post_form(client, TOKEN_URL, data, **auth)


@pytest.fixture
def hand_made_tokens(db):
    """For tests that sign tokens themselves (never issued, so never live at the authorization
    server): the Payments API's "refuse revoked tokens at once" switch is turned off, else the
    guard would refuse them as revoked first. tests/test_one_approval.py tests the switch."""
    from rar_provider.models import ResourceServer

    ResourceServer.objects.filter(identifier="urn:demo:payments").update(check_revocation=False)


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.get(username="alice")


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


def pytest_collection_modifyitems(config, items):
    """Tests marked ``postgresql`` run in the PostgreSQL pass only (SQLite's in-memory test database
    has table locks, not row locks, between connections)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        return
    kept = [item for item in items if item.get_closest_marker("postgresql") is None]
    if len(kept) < len(items):
        config.hook.pytest_deselected(items=[item for item in items if item not in kept])
        items[:] = kept


def pytest_terminal_summary(terminalreporter):
    """Say where the browser tests' screenshots are."""
    if SCREENSHOTS_TAKEN:
        terminalreporter.write_sep("-", "browser screenshots")
        terminalreporter.write_line(f"{len(SCREENSHOTS_TAKEN)} screenshots saved in {SCREENSHOTS}")


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters and login lockouts live in the cache: every test starts from none."""
    from django.core.cache import cache

    cache.clear()
    yield
