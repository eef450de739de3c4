"""RFC 9126 pushed authorization requests through the real endpoints (REQUIREMENTS.md PAR-xx)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone
from oauth2_provider.models import Application, Grant

from rar_provider.models import ClientPolicy, PushedAuthorizationRequest, hash_reference

from .conftest import (
    AUTHORIZE_URL,
    CONFIDENTIAL,
    ISSUER,
    MONEY_TRANSFER,
    PAR_URL,
    REQUEST_URI_PREFIX,
    approve,
    authorize_query,
    basic,
    pkce_pair,
    post_form,
    push,
    pushed_request_uri,
    redirect_params,
    request_params,
)

pytestmark = pytest.mark.django_db


def assert_oauth_error(response, status: int, error: str, *, mentions: str | None = None):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["error"] == error, body
    assert body.get("error_description"), body
    if mentions:
        assert mentions in body["error_description"], body
    assert response["Cache-Control"] == "no-store"
    return body


def test_par_01_endpoint_advertised(client):
    metadata = client.get("/.well-known/oauth-authorization-server").json()
    assert metadata["pushed_authorization_request_endpoint"] == ISSUER + PAR_URL
    assert metadata["require_pushed_authorization_requests"] is False


@pytest.mark.parametrize("method", ["get", "put", "delete", "patch"])
def test_par_02_only_post(client, method):
    response = getattr(client, method)(PAR_URL)
    assert response.status_code == 405
    assert response["Allow"] == "POST"


def test_par_02_json_body_refused(client):
    response = client.post(
        PAR_URL, json.dumps(request_params([MONEY_TRANSFER])), content_type="application/json", **CONFIDENTIAL
    )
    assert_oauth_error(response, 400, "invalid_request", mentions="application/x-www-form-urlencoded")
    assert not PushedAuthorizationRequest.objects.exists()


def test_par_03_basic_authentication(client):
    response = push(client, [MONEY_TRANSFER])
    assert response.status_code == 201


def test_par_03_client_secret_post(client):
    response = push(client, [MONEY_TRANSFER], auth={}, client_secret="demo-secret")
    assert response.status_code == 201


@pytest.mark.parametrize(
    "auth, extra",
    [
        (basic("demo-client", "wrong"), {}),
        ({}, {"client_secret": "wrong"}),
        ({}, {}),  # a confidential client that does not authenticate
        (basic("nobody", "x"), {"client_id": "nobody"}),
    ],
    ids=["basic-wrong-secret", "post-wrong-secret", "no-credentials", "unknown-client"],
)
def test_par_03_bad_credentials_get_401(client, auth, extra):
    response = push(client, [MONEY_TRANSFER], auth=auth, **extra)
    assert_oauth_error(response, 401, "invalid_client")
    assert response["WWW-Authenticate"].startswith("Basic")
    assert not PushedAuthorizationRequest.objects.exists()


def test_par_04_public_client_with_client_id_only(client):
    _verifier, challenge = pkce_pair()
    response = push(
        client,
        [MONEY_TRANSFER],
        auth={},
        client_id="demo-public",
        code_challenge=challenge,
        code_challenge_method="S256",
    )
    assert response.status_code == 201, response.content
    assert PushedAuthorizationRequest.objects.get().application.client_id == "demo-public"


def test_par_04_public_client_needs_pkce(client):
    response = push(client, [MONEY_TRANSFER], auth={}, client_id="demo-public")
    assert_oauth_error(response, 400, "invalid_request", mentions="challenge")


def test_par_05_client_id_required(client):
    response = push(client, [MONEY_TRANSFER], client_id=None)
    assert_oauth_error(response, 400, "invalid_request", mentions="client_id")


def test_par_05_client_id_required_without_credentials(client):
    response = push(client, [MONEY_TRANSFER], auth={}, client_id=None)
    assert_oauth_error(response, 400, "invalid_request", mentions="client_id")


def test_par_05_client_id_must_match_authenticated_client(client):
    response = push(client, [MONEY_TRANSFER], client_id="demo-public")
    assert_oauth_error(response, 400, "invalid_request", mentions="does not match")
    assert not PushedAuthorizationRequest.objects.exists()


def test_par_06_request_uri_in_body_rejected(client):
    response = push(client, [MONEY_TRANSFER], request_uri=REQUEST_URI_PREFIX + "abc")
    assert_oauth_error(response, 400, "invalid_request", mentions="request_uri")
    assert not PushedAuthorizationRequest.objects.exists()


@pytest.mark.parametrize(
    "overrides, error, mentions",
    [
        ({"redirect_uri": "https://evil.example/cb"}, "invalid_request", "redirect"),
        # RFC 6749 §4.1.2.1: metadata offers only "code", so "token" is not supported (issue 9).
        ({"response_type": "token"}, "unsupported_response_type", "code"),
        ({"response_type": "banana"}, "unsupported_response_type", None),
        ({"response_type": None}, "invalid_request", "response_type"),
        ({"scope": "launch-missiles"}, "invalid_scope", None),
        ({"code_challenge": "x" * 43, "code_challenge_method": "plain"}, "invalid_request", "S256"),
        ({"code_challenge": "x" * 43}, "invalid_request", "S256"),
        ({"code_challenge_method": "S256"}, "invalid_request", "code_challenge"),
        ({"authorization_details": "not json"}, "invalid_authorization_details", "JSON"),
        ({"audience": "urn:nope"}, "invalid_target", "urn:nope"),
    ],
    ids=[
        "redirect",
        "implicit",
        "response-type",
        "no-response-type",
        "scope",
        "pkce-plain",
        "pkce-default-plain",
        "pkce-method-alone",
        "details",
        "audience",
    ],
)
def test_par_07_validated_like_authorize_nothing_stored(client, overrides, error, mentions):
    response = push(client, [MONEY_TRANSFER], **overrides)
    assert_oauth_error(response, 400, error, mentions=mentions)
    assert not PushedAuthorizationRequest.objects.exists()


def test_par_08_success_response(client):
    response = push(client, [MONEY_TRANSFER])
    assert response.status_code == 201
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert set(body) == {"request_uri", "expires_in"}
    assert isinstance(body["request_uri"], str) and body["request_uri"].startswith(REQUEST_URI_PREFIX)
    assert isinstance(body["expires_in"], int) and body["expires_in"] == 60
    record = PushedAuthorizationRequest.objects.get()
    assert record.authorization_details == [MONEY_TRANSFER]
    assert record.resource_server.identifier == "urn:demo:payments"
    # The client secret authenticates the push and is never stored with the request.
    assert "demo-secret" not in json.dumps(record.parameters)


def test_par_09_request_uris_random_and_only_hashed(client):
    seen = set()
    for _ in range(1000):
        response = post_form(client, PAR_URL, request_params(), **CONFIDENTIAL)
        assert response.status_code == 201
        seen.add(response.json()["request_uri"])
    assert len(seen) == 1000
    # ≥ 128 bits: 32 random bytes, base64url-encoded, after the prefix.
    assert all(len(uri) - len(REQUEST_URI_PREFIX) >= 43 for uri in seen)
    stored = set(PushedAuthorizationRequest.objects.values_list("reference_hash", flat=True))
    assert stored == {hash_reference(uri) for uri in seen}
    assert not stored & {uri.removeprefix(REQUEST_URI_PREFIX) for uri in seen}


def test_par_10_bound_to_the_pushing_client(alice_client):
    request_uri = pushed_request_uri(alice_client)
    response = alice_client.get(AUTHORIZE_URL, authorize_query(request_uri, client_id="demo-public"))
    assert response.status_code == 400
    assert response.context["error"] == "invalid_request_uri"
    assert "not pushed by this client" in response.context["error_description"]


def test_par_10_unknown_request_uri_shows_page(alice_client):
    response = alice_client.get(AUTHORIZE_URL, authorize_query(REQUEST_URI_PREFIX + "nope"))
    assert response.status_code == 400
    assert response.context["error"] == "invalid_request_uri"


def test_par_11_reload_before_decision_then_one_time(alice_client):
    request_uri = pushed_request_uri(alice_client)
    assert alice_client.get(AUTHORIZE_URL, authorize_query(request_uri)).status_code == 200
    assert alice_client.get(AUTHORIZE_URL, authorize_query(request_uri)).status_code == 200  # reload
    params = redirect_params(approve(alice_client, request_uri))
    assert "code" in params
    again = redirect_params(alice_client.get(AUTHORIZE_URL, authorize_query(request_uri)))
    assert again["error"] == "invalid_request_uri"
    assert "already been used" in again["error_description"]
    assert again["state"] == "st-123" and again["iss"] == ISSUER
    assert "code" not in again
    assert Grant.objects.count() == 1


def test_par_11_second_decision_from_stale_page_gets_no_code(alice_client):
    request_uri = pushed_request_uri(alice_client)
    page = alice_client.get(AUTHORIZE_URL, authorize_query(request_uri))
    transaction = page.context["transaction"]
    first = alice_client.post(AUTHORIZE_URL, {"transaction": transaction, "decision": "allow"})
    assert "code" in redirect_params(first)
    second = redirect_params(
        alice_client.post(AUTHORIZE_URL, {"transaction": transaction, "decision": "allow"})
    )
    assert second["error"] == "invalid_request_uri"
    assert Grant.objects.count() == 1


def test_par_12_expired_request_uri(alice_client):
    request_uri = pushed_request_uri(alice_client)
    PushedAuthorizationRequest.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    params = redirect_params(alice_client.get(AUTHORIZE_URL, authorize_query(request_uri)))
    assert params["error"] == "invalid_request_uri"
    assert "expired" in params["error_description"]
    assert params["state"] == "st-123" and params["iss"] == ISSUER


def test_par_12_opened_in_time_survives_login(client, alice):
    """A request opened before it expired stays usable by that browser while the user logs in."""
    request_uri = pushed_request_uri(client)
    login_redirect = client.get(AUTHORIZE_URL, authorize_query(request_uri))
    assert login_redirect.status_code == 302 and login_redirect["Location"].startswith("/accounts/login/")
    PushedAuthorizationRequest.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    client.force_login(alice)
    assert client.get(AUTHORIZE_URL, authorize_query(request_uri)).status_code == 200
    # Another browser (no activation) gets the expiry error.
    from django.test import Client

    other = Client()
    other.force_login(alice)
    assert (
        redirect_params(other.get(AUTHORIZE_URL, authorize_query(request_uri)))["error"]
        == "invalid_request_uri"
    )


@override_settings(RAR_PROVIDER={"ISSUER": ISSUER, "PAR_LIFETIME": 5})
def test_par_12_lifetime_configurable(client):
    response = push(client, [MONEY_TRANSFER])
    assert response.json()["expires_in"] == 5
    record = PushedAuthorizationRequest.objects.get()
    assert timedelta(seconds=4) < record.expires_at - record.created_at <= timedelta(seconds=6)


def test_par_13_only_pushed_parameters_count(alice_client):
    request_uri = pushed_request_uri(alice_client, scope="profile", state="pushed-state")
    query = {
        **authorize_query(request_uri),
        "scope": "accounts",
        "state": "evil",
        "redirect_uri": "https://evil.example/cb",
    }
    page = alice_client.get(AUTHORIZE_URL, query)
    assert [name for name, _ in page.context["scopes"]] == ["profile"]
    response = alice_client.post(
        AUTHORIZE_URL, {"transaction": page.context["transaction"], "decision": "allow"}
    )
    params = redirect_params(response)
    assert params["state"] == "pushed-state"
    assert Grant.objects.get().scope == "profile"


def test_par_14_revalidated_against_current_registration(alice_client):
    request_uri = pushed_request_uri(alice_client)
    app = Application.objects.get(client_id="demo-client")
    app.redirect_uris = "https://elsewhere.example/cb"
    app.save()
    response = alice_client.get(AUTHORIZE_URL, authorize_query(request_uri))
    assert response.status_code == 400  # the redirect URI is no longer registered: no redirect
    assert response.context["error"] == "invalid_request"


def test_par_14_deleted_client(alice_client):
    request_uri = pushed_request_uri(alice_client)
    Application.objects.filter(client_id="demo-client").delete()
    response = alice_client.get(AUTHORIZE_URL, authorize_query(request_uri))
    assert response.status_code == 400


def test_par_14_type_disabled_after_push(alice_client):
    from rar_provider.models import AuthorizationDetailType

    request_uri = pushed_request_uri(alice_client)
    AuthorizationDetailType.objects.filter(type="money_transfer").update(enabled=False)
    params = redirect_params(alice_client.get(AUTHORIZE_URL, authorize_query(request_uri)))
    assert params["error"] == "invalid_authorization_details"


@override_settings(RAR_PROVIDER={"ISSUER": ISSUER, "PAR_REQUIRED": True})
def test_par_15_required_globally(alice_client):
    response = alice_client.get(AUTHORIZE_URL, request_params([MONEY_TRANSFER]))
    params = redirect_params(response)
    assert params["error"] == "invalid_request"
    assert "Pushed authorization requests are required" in params["error_description"]
    assert params["iss"] == ISSUER
    assert (
        alice_client.get("/.well-known/oauth-authorization-server").json()[
            "require_pushed_authorization_requests"
        ]
        is True
    )
    # The pushed route still works.
    assert "code" in redirect_params(approve(alice_client, pushed_request_uri(alice_client)))


def test_par_15_required_per_client(alice_client):
    ClientPolicy.objects.create(
        application=Application.objects.get(client_id="demo-client"),
        require_pushed_authorization_requests=True,
    )
    params = redirect_params(alice_client.get(AUTHORIZE_URL, request_params([MONEY_TRANSFER])))
    assert params["error"] == "invalid_request"
    # Other clients are not affected.
    _verifier, challenge = pkce_pair()
    page = alice_client.get(
        AUTHORIZE_URL,
        request_params(
            [MONEY_TRANSFER], client_id="demo-public", code_challenge=challenge, code_challenge_method="S256"
        ),
    )
    assert page.status_code == 200


@override_settings(RAR_PROVIDER={"ISSUER": ISSUER, "PAR_ENABLED": False})
def test_par_disabled_by_setting(client):
    assert push(client, [MONEY_TRANSFER]).status_code == 404
    assert (
        "pushed_authorization_request_endpoint"
        not in client.get("/.well-known/oauth-authorization-server").json()
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"auth": basic("demo-client", "wrong")},
        {"request_uri": "x"},
        {"response_type": "banana"},
        {"authorization_details": "[]"},
    ],
)
def test_par_17_errors_are_oauth_json(client, kwargs):
    response = push(client, [MONEY_TRANSFER], **kwargs)
    assert response.status_code in (400, 401)
    body = response.json()
    assert set(body) <= {"error", "error_description", "error_uri"}
    assert body["error"]
