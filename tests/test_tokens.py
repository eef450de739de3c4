"""The token endpoint with authorization_details: narrowing (RAR-11, RAR-12), client credentials
(RAR-13), RFC 8707 resource, code replay (TOK-05) and introspection (TOK-03, TOK-04)."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from jwcrypto import jws
from oauth2_provider.models import AccessToken, Application, Grant, RefreshToken

from rar_provider.models import AccessTokenFormat, CodeRedemption, ResourceServer

from .conftest import (
    CONFIDENTIAL,
    MONEY_TRANSFER,
    TOKEN_URL,
    approve,
    basic,
    exchange,
    post_form,
    push,
    pushed_request_uri,
    redirect_params,
)
from .test_rar_endpoints import ACCOUNT_INFORMATION

pytestmark = pytest.mark.django_db

INTROSPECT_URL = "/oauth/introspect"
SERVICE = basic("demo-service", "demo-service-secret")
#: The Payments API's own credentials: a resource server client of urn:demo:payments (RFC 7662 §4).
PAYMENTS_API = basic("payments-api", "payments-api-secret")


def claims_of(token: str) -> dict:
    """The payload of a signed JWT (its signature is checked in test_jwks_and_metadata)."""
    parsed = jws.JWS()
    parsed.deserialize(token)
    return json.loads(parsed.objects["payload"])


def granted_code(client, details, **overrides) -> str:
    """Push, approve as the logged-in user, return the code (``details=None``: no details at all)."""
    if details is None:
        pushed = push(client, None, **overrides)
        assert pushed.status_code == 201, pushed.content
        request_uri = pushed.json()["request_uri"]
    else:
        request_uri = pushed_request_uri(client, details, **overrides)
    return redirect_params(approve(client, request_uri))["code"]


def refresh(client, refresh_token: str, auth=CONFIDENTIAL, **extra):
    data = {"grant_type": "refresh_token", "refresh_token": refresh_token, **extra}
    return post_form(client, TOKEN_URL, data, **auth)


def introspect(client, token: str, auth=PAYMENTS_API, **extra):
    return post_form(client, INTROSPECT_URL, {"token": token, **extra}, **auth)


def error_of(response, status=400) -> dict:
    assert response.status_code == status, response.content
    return response.json()


# -- RAR-11: the code exchange may narrow the grant ------------------------------------------------------


def test_rar_11_token_request_narrows_to_a_subset(alice_client):
    code = granted_code(alice_client, [MONEY_TRANSFER, ACCOUNT_INFORMATION])
    response = exchange(alice_client, code, authorization_details=json.dumps([ACCOUNT_INFORMATION]))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["authorization_details"] == [ACCOUNT_INFORMATION]
    assert claims_of(body["access_token"])["authorization_details"] == [ACCOUNT_INFORMATION]
    assert AccessToken.objects.get().rar_issued.authorization_details == [ACCOUNT_INFORMATION]
    # The grant is not shrunk: the refresh token keeps everything that was approved.
    assert RefreshToken.objects.get().rar_issued.authorization_details == [
        MONEY_TRANSFER,
        ACCOUNT_INFORMATION,
    ]


def test_rar_11_array_common_fields_may_be_subsets(alice_client):
    code = granted_code(alice_client, [ACCOUNT_INFORMATION])
    narrower = {**ACCOUNT_INFORMATION, "actions": ["read_balances"]}
    response = exchange(alice_client, code, authorization_details=json.dumps([narrower]))
    assert response.status_code == 200, response.content
    assert response.json()["authorization_details"] == [narrower]


@pytest.mark.parametrize(
    "requested, mentions",
    [
        (
            [{**MONEY_TRANSFER, "instructedAmount": {"amount": 9999, "currency": "USD"}}],
            "authorization_details[0]",
        ),
        ([MONEY_TRANSFER, ACCOUNT_INFORMATION], "authorization_details[1]"),
        ([{**MONEY_TRANSFER, "beneficiary": "Someone Else"}], "money_transfer"),
        ([{k: v for k, v in MONEY_TRANSFER.items() if k != "beneficiary"}], "only narrow"),
        # One approved payment asked for twice is not a subset of the grant (found by a review).
        ([MONEY_TRANSFER, MONEY_TRANSFER], "each granted entry once"),
    ],
)
def test_rar_11_superset_is_refused(alice_client, requested, mentions):
    code = granted_code(alice_client, [MONEY_TRANSFER])
    body = error_of(exchange(alice_client, code, authorization_details=json.dumps(requested)))
    assert body["error"] == "invalid_authorization_details"
    assert mentions in body["error_description"]
    assert not AccessToken.objects.exists()


def test_rar_11_actions_beyond_the_grant_are_refused(alice_client):
    granted = {**ACCOUNT_INFORMATION, "actions": ["list_accounts"]}
    code = granted_code(alice_client, [granted])
    wider = {**ACCOUNT_INFORMATION, "actions": ["list_accounts", "read_transactions"]}
    body = error_of(exchange(alice_client, code, authorization_details=json.dumps([wider])))
    assert body["error"] == "invalid_authorization_details"


def test_rar_11_malformed_details_at_the_token_endpoint(alice_client):
    code = granted_code(alice_client, [MONEY_TRANSFER])
    body = error_of(exchange(alice_client, code, authorization_details="[{not json"))
    assert body["error"] == "invalid_authorization_details"
    assert "JSON" in body["error_description"]


def test_rar_11_narrowing_a_grant_without_details(alice_client):
    code = granted_code(alice_client, None, scope="profile")
    body = error_of(exchange(alice_client, code, authorization_details=json.dumps([MONEY_TRANSFER])))
    assert body["error"] == "invalid_authorization_details"
    assert "no authorization_details" in body["error_description"]


def test_rar_11_per_type_comparator_replaces_the_default(alice_client, settings):
    settings.RAR_PROVIDER = {**settings.RAR_PROVIDER, "DETAIL_COMPARATORS": {"money_transfer": lower_amount}}
    code = granted_code(alice_client, [MONEY_TRANSFER])
    smaller = {**MONEY_TRANSFER, "instructedAmount": {"amount": 100, "currency": "USD"}}
    response = exchange(alice_client, code, authorization_details=json.dumps([smaller]))
    assert response.status_code == 200, response.content
    assert response.json()["authorization_details"] == [smaller]


def lower_amount(requested: dict, granted: dict) -> bool:
    """A type's own comparison: the same transfer for at most the granted amount."""
    same = {k: v for k, v in requested.items() if k != "instructedAmount"} == {
        k: v for k, v in granted.items() if k != "instructedAmount"
    }
    want, have = requested["instructedAmount"], granted["instructedAmount"]
    return same and want["currency"] == have["currency"] and want["amount"] <= have["amount"]


# -- RAR-12: a refresh may narrow; the grant stays whole ---------------------------------------------------


def test_rar_12_refresh_narrows_then_gets_the_whole_grant_back(alice_client):
    code = granted_code(alice_client, [MONEY_TRANSFER, ACCOUNT_INFORMATION])
    tokens = exchange(alice_client, code).json()

    narrowed = refresh(
        alice_client, tokens["refresh_token"], authorization_details=json.dumps([MONEY_TRANSFER])
    )
    assert narrowed.status_code == 200, narrowed.content
    assert narrowed.json()["authorization_details"] == [MONEY_TRANSFER]
    assert claims_of(narrowed.json()["access_token"])["authorization_details"] == [MONEY_TRANSFER]

    whole = refresh(alice_client, narrowed.json()["refresh_token"])
    assert whole.status_code == 200, whole.content
    assert whole.json()["authorization_details"] == [MONEY_TRANSFER, ACCOUNT_INFORMATION]

    more = {**ACCOUNT_INFORMATION, "locations": ["https://example.com/other"]}
    body = error_of(
        refresh(alice_client, whole.json()["refresh_token"], authorization_details=json.dumps([more]))
    )
    assert body["error"] == "invalid_authorization_details"
    # The refused refresh did not use up the refresh token.
    assert refresh(alice_client, whole.json()["refresh_token"]).status_code == 200


# -- RAR-13: client credentials with details ---------------------------------------------------------------


def client_credentials(client, auth=SERVICE, **extra):
    return post_form(client, TOKEN_URL, {"grant_type": "client_credentials", **extra}, **auth)


def test_rar_13_client_credentials_with_granted_type(client):
    response = client_credentials(client, authorization_details=json.dumps([ACCOUNT_INFORMATION]))
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["authorization_details"] == [ACCOUNT_INFORMATION]
    assert "refresh_token" not in body
    claims = claims_of(body["access_token"])
    assert claims["authorization_details"] == [ACCOUNT_INFORMATION]
    assert claims["sub"] == claims["client_id"] == "demo-service"
    assert claims["aud"] == "urn:demo:payments"
    stored = AccessToken.objects.get()
    assert stored.user is None
    assert stored.rar_issued.authorization_details == [ACCOUNT_INFORMATION]


def test_rar_13_client_credentials_type_not_in_the_client_grant(client):
    body = error_of(client_credentials(client, authorization_details=json.dumps([MONEY_TRANSFER])))
    assert body["error"] == "invalid_authorization_details"
    assert "'money_transfer' is not allowed for this client" in body["error_description"]
    assert not AccessToken.objects.exists()


def test_rar_13_client_credentials_schema_is_checked(client):
    bad = {**ACCOUNT_INFORMATION, "actions": ["delete_everything"]}
    body = error_of(client_credentials(client, authorization_details=json.dumps([bad])))
    assert body["error"] == "invalid_authorization_details"
    assert "authorization_details[0]" in body["error_description"]


def test_rar_13_client_credentials_unknown_audience(client):
    body = error_of(
        client_credentials(
            client, authorization_details=json.dumps([ACCOUNT_INFORMATION]), audience="urn:nope"
        )
    )
    assert body["error"] == "invalid_target"
    assert "urn:nope" in body["error_description"]


def test_rar_13_client_credentials_without_details_is_plain_oauth(client):
    response = client_credentials(client, scope="introspection")
    assert response.status_code == 200, response.content
    body = response.json()
    assert "authorization_details" not in body
    assert body["scope"] == "introspection"
    assert not hasattr(AccessToken.objects.get(), "rar_issued")


def test_rar_13_client_credentials_refused_for_an_authorization_code_client(client):
    body = error_of(
        client_credentials(client, auth=CONFIDENTIAL, authorization_details=json.dumps([ACCOUNT_INFORMATION]))
    )
    assert body["error"] == "unauthorized_client"


# -- RFC 8707 resource ---------------------------------------------------------------------------------------


def test_resource_parameter_selects_the_api(alice_client):
    code = granted_code(alice_client, [MONEY_TRANSFER], resource="urn:demo:payments")
    body = exchange(alice_client, code).json()
    assert claims_of(body["access_token"])["aud"] == "urn:demo:payments"
    assert Grant.objects.count() == 0
    assert AccessToken.objects.get().resource == ["urn:demo:payments"]


@pytest.mark.parametrize(
    "params, mentions",
    [
        ({"resource": "urn:demo:unknown"}, "resource 'urn:demo:unknown' is not a registered API"),
        ({"resource": "urn:demo:payments", "audience": "urn:demo:other"}, "name different APIs"),
        ({"resource": ["urn:demo:payments", "https://other.example"]}, "several APIs"),
    ],
)
def test_resource_parameter_errors(client, params, mentions):
    response = push(client, [MONEY_TRANSFER], **params)
    body = error_of(response)
    assert body["error"] == "invalid_target"
    assert mentions in body["error_description"]


def test_resource_at_the_token_endpoint_must_match_the_grant(alice_client):
    code = granted_code(alice_client, [MONEY_TRANSFER])
    body = error_of(exchange(alice_client, code, resource="https://other.example/api"))
    assert body["error"] == "invalid_target"
    same = exchange(alice_client, code, resource="urn:demo:payments")
    assert same.status_code == 200, same.content


def test_scope_only_request_for_an_api_gets_its_token_format(alice_client):
    code = granted_code(alice_client, None, scope="accounts", audience="urn:demo:payments")
    body = exchange(alice_client, code).json()
    claims = claims_of(body["access_token"])
    assert claims["aud"] == "urn:demo:payments"
    assert claims["scope"] == "accounts"
    assert "authorization_details" not in claims and "authorization_details" not in body


def test_opaque_api_issues_opaque_tokens(alice_client):
    ResourceServer.objects.filter(identifier="urn:demo:payments").update(
        access_token_format=AccessTokenFormat.OPAQUE
    )
    body = exchange(alice_client, granted_code(alice_client, [MONEY_TRANSFER])).json()
    assert body["access_token"].count(".") == 0
    assert body["authorization_details"] == [MONEY_TRANSFER]
    data = introspect(alice_client, body["access_token"]).json()
    assert data["active"] is True and data["authorization_details"] == [MONEY_TRANSFER]


def test_missing_signing_key_is_a_server_error_not_an_opaque_token(alice_client, settings):
    code = granted_code(alice_client, [MONEY_TRANSFER])
    settings.RAR_PROVIDER = {**settings.RAR_PROVIDER, "SIGNING_KEYS": []}
    body = exchange(alice_client, code).json()
    assert body["error"] == "server_error"
    assert "SIGNING_KEYS" in body["error_description"] and "rar_generate_key" in body["error_description"]
    assert not AccessToken.objects.exists()


# -- TOK-05: codes are single use and short-lived --------------------------------------------------------


def test_tok_05_code_lifetime_is_at_most_60_seconds(alice_client):
    pushed = pushed_request_uri(alice_client, [MONEY_TRANSFER])
    page = alice_client.get("/oauth/authorize", {"client_id": "demo-client", "request_uri": pushed})
    alice_client.post("/oauth/authorize", {"transaction": page.context["transaction"], "decision": "allow"})
    grant = Grant.objects.get()
    assert grant.expires - timezone.now() <= timedelta(seconds=60)


def test_tok_05_expired_code_is_refused(alice_client):
    code = granted_code(alice_client, [MONEY_TRANSFER])
    Grant.objects.update(expires=timezone.now() - timedelta(seconds=1))
    assert error_of(exchange(alice_client, code))["error"] == "invalid_grant"


def test_tok_05_reused_code_revokes_the_tokens_issued_with_it(alice_client):
    code = granted_code(alice_client, [MONEY_TRANSFER])
    tokens = exchange(alice_client, code).json()
    assert introspect(alice_client, tokens["access_token"]).json()["active"] is True

    body = error_of(exchange(alice_client, code))
    assert body["error"] == "invalid_grant"
    assert "already used" in body["error_description"]
    assert introspect(alice_client, tokens["access_token"]).json() == {"active": False}
    assert error_of(refresh(alice_client, tokens["refresh_token"]))["error"] == "invalid_grant"
    assert not AccessToken.objects.exists()
    assert CodeRedemption.objects.get().replayed_at is not None


def test_tok_05_refreshed_tokens_are_revoked_too(alice_client):
    code = granted_code(alice_client, [MONEY_TRANSFER])
    first = exchange(alice_client, code).json()
    second = refresh(alice_client, first["refresh_token"]).json()
    error_of(exchange(alice_client, code))
    assert introspect(alice_client, second["access_token"]).json() == {"active": False}
    assert error_of(refresh(alice_client, second["refresh_token"]))["error"] == "invalid_grant"


def test_tok_05_another_clients_code_is_just_invalid(alice_client):
    """Another client (one allowed the code grant) sending a redeemed code revokes nothing."""
    code = granted_code(alice_client, [MONEY_TRANSFER])
    tokens = exchange(alice_client, code).json()
    body = error_of(exchange(alice_client, code, auth={}, client_id="demo-public", code_verifier="x" * 50))
    assert body["error"] == "invalid_grant"
    assert "already used" not in body.get("error_description", "")
    assert introspect(alice_client, tokens["access_token"]).json()["active"] is True


def test_tok_05_only_a_hash_of_the_code_is_kept(alice_client):
    code = granted_code(alice_client, [MONEY_TRANSFER])
    exchange(alice_client, code)
    redemption = CodeRedemption.objects.get()
    assert code not in redemption.code_hash and len(redemption.code_hash) == 64


# -- TOK-03 / TOK-04: introspection --------------------------------------------------------------------------


@pytest.fixture
def issued(alice_client, alice):
    code = granted_code(alice_client, [MONEY_TRANSFER], scope="profile")
    return exchange(alice_client, code).json()


def test_tok_04_active_token_carries_everything(client, issued, alice):
    response = introspect(client, issued["access_token"])
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    data = response.json()
    assert data["active"] is True
    assert data["authorization_details"] == [MONEY_TRANSFER]
    assert data["scope"] == "profile"
    assert data["client_id"] == "demo-client"
    assert data["sub"] == str(alice.pk)
    assert data["username"] == "alice"
    assert data["aud"] == "urn:demo:payments"
    claims = claims_of(issued["access_token"])
    assert data["exp"] - claims["exp"] in (-1, 0, 1)
    assert abs(data["iat"] - claims["iat"]) <= 1
    assert data["iss"] == claims["iss"] == "http://127.0.0.1:8000"


def test_tok_04_refresh_token_can_be_introspected_by_its_client(client, issued):
    data = introspect(
        client, issued["refresh_token"], auth=CONFIDENTIAL, token_type_hint="refresh_token"
    ).json()
    assert data["active"] is True
    assert data["token_type"] == "refresh_token"
    assert data["authorization_details"] == [MONEY_TRANSFER]


@pytest.mark.parametrize(
    "auth, status",
    [
        ({}, 401),
        (basic("demo-service", "wrong"), 401),
        (basic("demo-public", ""), 401),
        ({"HTTP_AUTHORIZATION": "Bearer not-a-token"}, 401),
    ],
)
def test_tok_03_unauthenticated_callers_are_refused(client, issued, auth, status):
    response = introspect(client, issued["access_token"], auth=auth)
    assert response.status_code == status, response.content
    assert response.json()["error"] in ("invalid_client", "invalid_token")
    assert "WWW-Authenticate" in response
    assert "active" not in response.json()


def test_tok_03_public_client_with_client_id_only_is_refused(client, issued):
    response = post_form(
        client, INTROSPECT_URL, {"token": issued["access_token"], "client_id": "demo-public"}
    )
    assert error_of(response, 401)["error"] == "invalid_client"


def test_tok_03_client_secret_in_the_body_works(client, issued):
    response = post_form(
        client,
        INTROSPECT_URL,
        {
            "token": issued["access_token"],
            "client_id": "payments-api",
            "client_secret": "payments-api-secret",
        },
    )
    assert response.json()["active"] is True


def test_tok_03_bearer_with_introspection_scope(client, issued):
    service_token = client_credentials(client, PAYMENTS_API, scope="introspection").json()["access_token"]
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {service_token}"}
    assert introspect(client, issued["access_token"], auth=bearer).json()["active"] is True
    # The bearer's client is the caller: another client's introspection token learns nothing.
    stranger = client_credentials(client, scope="introspection").json()["access_token"]
    stranger_bearer = {"HTTP_AUTHORIZATION": f"Bearer {stranger}"}
    assert introspect(client, issued["access_token"], auth=stranger_bearer).json() == {"active": False}
    other = client_credentials(client, scope="profile").json()["access_token"]
    response = introspect(client, issued["access_token"], auth={"HTTP_AUTHORIZATION": f"Bearer {other}"})
    assert error_of(response, 403)["error"] == "insufficient_scope"


def test_tok_03_unknown_token_is_exactly_inactive(client):
    response = introspect(client, "no-such-token")
    assert response.status_code == 200
    assert response.json() == {"active": False}


def test_tok_03_expired_token_is_exactly_inactive(client, issued):
    AccessToken.objects.update(expires=timezone.now() - timedelta(seconds=1))
    assert introspect(client, issued["access_token"]).json() == {"active": False}


def test_tok_03_revoked_tokens_are_exactly_inactive(client, issued):
    response = post_form(client, "/oauth/revoke", {"token": issued["refresh_token"]}, **CONFIDENTIAL)
    assert response.status_code == 200
    assert introspect(client, issued["access_token"]).json() == {"active": False}
    assert introspect(client, issued["refresh_token"], token_type_hint="refresh_token").json() == {
        "active": False
    }


@pytest.mark.parametrize("data", [{}, {"token": ""}, {"token": ["a", "b"]}])
def test_tok_03_token_parameter_is_required_once(client, data):
    response = post_form(client, INTROSPECT_URL, data, **SERVICE)
    body = error_of(response)
    assert body["error"] == "invalid_request"
    assert "token" in body["error_description"]


def test_tok_03_get_is_not_allowed(client, issued):
    assert client.get(INTROSPECT_URL, {"token": issued["access_token"]}, **SERVICE).status_code == 405


# -- TOK-08: introspection is scoped (RFC 7662 §4) ---------------------------------------------------


@pytest.fixture
def stranger(db):
    """A brand-new confidential client with no relation to the Payments API."""
    Application.objects.create(
        name="Stranger",
        client_id="stranger",
        client_secret="stranger-secret",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
    )
    return basic("stranger", "stranger-secret")


@pytest.mark.parametrize("caller", ["demo-service", "stranger"])
def test_tok_08_a_client_that_is_neither_the_tokens_nor_its_apis_learns_nothing(
    client, issued, stranger, caller
):
    """Issue 10: any confidential client used to read alice's token, username and payment details."""
    auth = SERVICE if caller == "demo-service" else stranger
    for token, hint in ((issued["access_token"], "access_token"), (issued["refresh_token"], "refresh_token")):
        response = introspect(client, token, auth=auth, token_type_hint=hint)
        assert response.status_code == 200
        assert response.json() == {"active": False}


def test_tok_08_the_tokens_own_client_and_its_apis_resource_server_learn_about_it(client, issued):
    assert introspect(client, issued["access_token"], auth=CONFIDENTIAL).json()["active"] is True
    assert introspect(client, issued["access_token"], auth=PAYMENTS_API).json()["username"] == "alice"


def test_tok_08_a_resource_server_of_another_api_learns_nothing(client, issued):
    other = ResourceServer.objects.create(name="Other API", identifier="urn:demo:other")
    other.introspection_clients.add(Application.objects.get(client_id="demo-service"))
    assert introspect(client, issued["access_token"], auth=SERVICE).json() == {"active": False}
    ResourceServer.objects.get(identifier="urn:demo:payments").introspection_clients.add(
        Application.objects.get(client_id="demo-service")
    )
    assert introspect(client, issued["access_token"], auth=SERVICE).json()["active"] is True


def test_tok_08_a_resource_server_does_not_introspect_refresh_tokens(client, issued):
    """A refresh token is the client's alone: its API never needs to see it."""
    response = introspect(client, issued["refresh_token"], auth=PAYMENTS_API, token_type_hint="refresh_token")
    assert response.json() == {"active": False}


# -- access-token lifetimes: minutes for JWT and JWE APIs (issue 13, point 2) --------------------------------


@pytest.fixture
def fresh_token_server():
    """DOT builds the token view's oauthlib server once per process (``_oauthlib_core``), with the
    lifetime of that moment: built again for a test that changes DOT's lifetime, and after it."""
    from rar_provider.views.token import TokenView

    def forget():
        if "_oauthlib_core" in vars(TokenView):
            delattr(TokenView, "_oauthlib_core")

    forget()
    yield
    forget()


def test_a_jwt_apis_tokens_live_minutes_whatever_dots_lifetime(alice_client, settings, fresh_token_server):
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "ACCESS_TOKEN_EXPIRE_SECONDS": 36000}
    body = exchange(alice_client, granted_code(alice_client, [MONEY_TRANSFER])).json()
    claims = claims_of(body["access_token"])
    assert body["expires_in"] == 600 == claims["exp"] - claims["iat"]
    stored = AccessToken.objects.get()
    assert abs((stored.expires - timezone.now()).total_seconds() - 600) < 30  # introspection agrees
    settings.RAR_PROVIDER = {**settings.RAR_PROVIDER, "JWT_ACCESS_TOKEN_LIFETIME": 120}
    assert exchange(alice_client, granted_code(alice_client, [MONEY_TRANSFER])).json()["expires_in"] == 120


def test_an_opaque_apis_tokens_keep_dots_lifetime(alice_client, settings, fresh_token_server):
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "ACCESS_TOKEN_EXPIRE_SECONDS": 36000}
    ResourceServer.objects.filter(identifier="urn:demo:payments").update(
        access_token_format=AccessTokenFormat.OPAQUE
    )
    body = exchange(alice_client, granted_code(alice_client, [MONEY_TRANSFER])).json()
    assert body["expires_in"] == 36000
