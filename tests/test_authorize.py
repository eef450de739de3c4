"""The authorization endpoint: front channel, login, consent, decisions, RFC 9207 iss, browser security."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.core import signing
from oauth2_provider.models import Application, Grant

from .conftest import (
    AUTHORIZE_URL,
    ISSUER,
    MONEY_TRANSFER,
    REDIRECT_URI,
    approve,
    authorize_query,
    consent_transaction,
    pushed_request_uri,
    redirect_params,
    request_params,
)

pytestmark = pytest.mark.django_db


def test_front_channel_request_with_details_shows_consent(alice_client):
    response = alice_client.get(AUTHORIZE_URL, request_params([MONEY_TRANSFER]))
    assert response.status_code == 200
    assert response.templates[0].name == "rar_provider/consent.html"
    assert [d.type for d in response.context["details"]] == ["money_transfer"]


def test_anonymous_user_is_sent_to_login_after_validation(client):
    request_uri = pushed_request_uri(client)
    response = client.get(AUTHORIZE_URL, authorize_query(request_uri))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/oauth/authorize")


def test_invalid_request_is_reported_before_login(client):
    response = client.get(AUTHORIZE_URL, request_params([{"type": "nope"}]))
    params = redirect_params(response)
    assert params["error"] == "invalid_authorization_details"


def test_sec_01_unknown_client_gets_page_not_redirect(alice_client):
    response = alice_client.get(AUTHORIZE_URL, request_params([MONEY_TRANSFER], client_id="nobody"))
    assert response.status_code == 400
    assert "Location" not in response
    assert response.context["error"] == "invalid_request"
    assert response.context["error_description"]


def test_sec_01_unregistered_redirect_uri_gets_page_not_redirect(alice_client):
    response = alice_client.get(
        AUTHORIZE_URL, request_params([MONEY_TRANSFER], redirect_uri="https://evil.example/cb")
    )
    assert response.status_code == 400
    assert "Location" not in response
    # Exact comparison: a prefix or a different port is not the registered URI.
    for near_miss in (REDIRECT_URI + "x", REDIRECT_URI.replace("8000", "8001"), REDIRECT_URI + "?a=1"):
        assert alice_client.get(AUTHORIZE_URL, request_params(redirect_uri=near_miss)).status_code == 400


def test_sec_01_no_error_redirect_to_a_near_miss(alice_client):
    """DOT lets loopback URIs vary their port; an error must still never be sent there."""
    near_miss = REDIRECT_URI.replace("8000", "8001")
    response = alice_client.get(AUTHORIZE_URL, request_params(redirect_uri=near_miss, response_type="banana"))
    assert response.status_code == 400
    assert "Location" not in response


def test_sec_03_iss_on_success(alice_client):
    params = redirect_params(approve(alice_client, pushed_request_uri(alice_client)))
    assert params["iss"] == ISSUER
    assert params["state"] == "st-123"
    assert params["code"]


def test_sec_03_iss_on_error_and_deny_is_access_denied(alice_client):
    params = redirect_params(approve(alice_client, pushed_request_uri(alice_client), decision="deny"))
    assert params == {
        "error": "access_denied",
        "error_description": "The user denied the request.",
        "state": "st-123",
        "iss": ISSUER,
    }
    assert not Grant.objects.exists()


def test_sec_04_pages_cannot_be_framed_or_cached(alice_client):
    response = alice_client.get(AUTHORIZE_URL, authorize_query(pushed_request_uri(alice_client)))
    assert response["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert "no-store" in response["Cache-Control"]
    error_page = alice_client.get(AUTHORIZE_URL, {"client_id": "nobody"})
    assert error_page["X-Frame-Options"] == "DENY"
    assert "no-store" in error_page["Cache-Control"]


def test_sec_04_consent_post_needs_csrf(alice):
    from django.test import Client

    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)
    page = browser.get(AUTHORIZE_URL, authorize_query(pushed_request_uri(browser)))
    response = browser.post(AUTHORIZE_URL, {"transaction": consent_transaction(page), "decision": "allow"})
    assert response.status_code == 403
    assert not Grant.objects.exists()


def test_sec_05_redirect_after_post_is_302(alice_client):
    response = approve(alice_client, pushed_request_uri(alice_client))
    assert response.status_code == 302


def test_tampered_transaction_is_refused(alice_client):
    page = alice_client.get(AUTHORIZE_URL, authorize_query(pushed_request_uri(alice_client)))
    transaction = consent_transaction(page)
    response = alice_client.post(AUTHORIZE_URL, {"transaction": transaction[:-2] + "xx", "decision": "allow"})
    assert response.status_code == 400
    assert "tampered" in response.context["error_description"]
    forged = signing.dumps(
        {"pairs": [["client_id", "demo-client"]], "par": None, "user": 1}, salt="not-ours", compress=True
    )
    assert alice_client.post(AUTHORIZE_URL, {"transaction": forged, "decision": "allow"}).status_code == 400
    assert not Grant.objects.exists()


def test_transaction_bound_to_the_user(alice_client, client):
    page = alice_client.get(AUTHORIZE_URL, authorize_query(pushed_request_uri(alice_client)))
    transaction = consent_transaction(page)
    mallory = User.objects.create_user("mallory", password="x")
    alice_client.force_login(mallory)
    response = alice_client.post(AUTHORIZE_URL, {"transaction": transaction, "decision": "allow"})
    assert response.status_code == 400
    assert not Grant.objects.exists()


def test_consent_decision_requires_login(client):
    response = client.post(AUTHORIZE_URL, {"transaction": "x", "decision": "allow"})
    assert response.status_code == 400


def test_skip_authorization_never_skips_details(alice_client):
    Application.objects.filter(client_id="demo-client").update(skip_authorization=True)
    response = alice_client.get(AUTHORIZE_URL, authorize_query(pushed_request_uri(alice_client)))
    assert response.status_code == 200  # the consent page, not a code
    assert not Grant.objects.exists()


def test_skip_authorization_still_applies_without_details(alice_client):
    Application.objects.filter(client_id="demo-client").update(skip_authorization=True)
    response = alice_client.get(AUTHORIZE_URL, request_params(scope="profile"))
    assert "code" in redirect_params(response)
    assert Grant.objects.get().scope == "profile"


def test_approval_prompt_auto_never_skips_details(alice_client):
    # A previous grant with the same scopes exists…
    params = redirect_params(approve(alice_client, pushed_request_uri(alice_client, scope="profile")))
    from .conftest import exchange

    assert exchange(alice_client, params["code"]).status_code == 200
    # …yet a request with details and approval_prompt=auto is shown for consent.
    response = alice_client.get(
        AUTHORIZE_URL, request_params([MONEY_TRANSFER], scope="profile", approval_prompt="auto")
    )
    assert response.status_code == 200
    # Without details, DOT's approval_prompt=auto behaviour is kept.
    assert "code" in redirect_params(
        alice_client.get(AUTHORIZE_URL, request_params(scope="profile", approval_prompt="auto"))
    )


def test_duplicate_authorization_details_refused(alice_client):
    query = request_params([MONEY_TRANSFER])
    from urllib.parse import urlencode

    url = AUTHORIZE_URL + "?" + urlencode(query) + "&" + urlencode({"authorization_details": "[]"})
    params = redirect_params(alice_client.get(url))
    assert params["error"] == "invalid_request"
    assert "more than once" in params["error_description"]


def test_request_without_scope_or_details_gets_default_scope(alice_client):
    page = alice_client.get(AUTHORIZE_URL, request_params())
    assert [name for name, _ in page.context["scopes"]] == ["profile"]


def test_prompt_none_without_login_is_login_required(client):
    params = redirect_params(client.get(AUTHORIZE_URL, request_params([MONEY_TRANSFER], prompt="none")))
    assert params["error"] == "login_required"
    assert params["state"] == "st-123" and params["iss"] == ISSUER


def test_prompt_none_with_details_is_consent_required(alice_client):
    params = redirect_params(alice_client.get(AUTHORIZE_URL, request_params([MONEY_TRANSFER], prompt="none")))
    assert params["error"] == "consent_required"
    assert not Grant.objects.exists()
