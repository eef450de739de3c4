"""Issue 9, "What was seen": every example, through the real endpoints.

Each test names the example it proves; the kinds they belong to are tested in
full by test_parameters.py (every row of the parameter table),
test_malformed_requests.py (the battery) and test_one_time.py (replays).
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from django.test import override_settings
from oauth2_provider.models import AccessToken, Grant, RefreshToken
from oauth2_provider.settings import oauth2_settings

from rar_provider import parameters
from rar_provider.models import PushedAuthorizationRequest

from .conftest import (
    AUTHORIZE_URL,
    CONFIDENTIAL,
    FORM,
    MONEY_TRANSFER,
    PAR_URL,
    REDIRECT_URI,
    TOKEN_URL,
    basic,
    post_form,
    push,
    redirect_params,
    request_params,
)
from .strict_helpers import (
    INTROSPECT_URL,
    REVOKE_URL,
    SERVICE,
    assert_oauth_json_error,
    code_for,
    introspect,
    refresh,
    token_request,
    tokens_for,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(params=[True, False], ids=["debug", "no-debug"])
def debug(request, settings):
    """Errors must not depend on DEBUG (the issue saw a 500 with it on and HTML with it off)."""
    settings.DEBUG = request.param
    return request.param


# -- PKCE downgrade (RFC 9700 §2.1.1, §4.8.2) ---------------------------------------------------------------


def test_pkce_downgrade_code_verifier_without_code_challenge_is_invalid_grant(alice_client):
    code, _ = code_for(alice_client, pkce=False)
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI}
    response = token_request(alice_client, {**data, "code_verifier": "A" * 43})
    assert_oauth_json_error(response, 400, "invalid_grant", mentions="code_challenge")
    assert not AccessToken.objects.exists()
    # The code is still good for the request the client should have sent.
    assert token_request(alice_client, data).status_code == 200


# -- Repeated parameters (RFC 6749 §3.1, §3.2) --------------------------------------------------------------


def test_repeated_prompt_at_par_is_refused_and_nothing_stored(client):
    body = urlencode([*request_params([MONEY_TRANSFER]).items(), ("prompt", "consent"), ("prompt", "none")])
    response = client.post(PAR_URL, body, content_type=FORM, **CONFIDENTIAL)
    assert_oauth_json_error(response, 400, "invalid_request", mentions="prompt")
    assert not PushedAuthorizationRequest.objects.exists()


def test_repeated_prompt_at_authorize_is_refused(alice_client):
    query = urlencode([*request_params().items(), ("prompt", "consent"), ("prompt", "none")])
    params = redirect_params(alice_client.get(f"{AUTHORIZE_URL}?{query}"))
    assert params["error"] == "invalid_request"
    assert "prompt" in params["error_description"]


def test_repeated_client_id_with_request_uri_at_authorize_is_a_page(alice_client):
    query = urlencode([("client_id", "demo-client"), ("client_id", "demo-public"), ("request_uri", "urn:x")])
    response = alice_client.get(f"{AUTHORIZE_URL}?{query}")
    assert response.status_code == 400
    assert response.context["error"] == "invalid_request"
    assert "client_id" in response.context["error_description"]


def test_repeated_code_verifier_wrong_then_right_is_refused(alice_client):
    code, verifier = code_for(alice_client)
    pairs = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", "B" * 43),
        ("code_verifier", verifier),
    ]
    response = alice_client.post(TOKEN_URL, urlencode(pairs), content_type=FORM, **CONFIDENTIAL)
    assert_oauth_json_error(response, 400, "invalid_request", mentions="code_verifier")
    assert not AccessToken.objects.exists()


def test_repeated_code_bogus_then_real_is_refused(alice_client):
    code, verifier = code_for(alice_client)
    pairs = [
        ("grant_type", "authorization_code"),
        ("code", "bogus"),
        ("code", code),
        ("redirect_uri", REDIRECT_URI),
        ("code_verifier", verifier),
    ]
    response = alice_client.post(TOKEN_URL, urlencode(pairs), content_type=FORM, **CONFIDENTIAL)
    assert_oauth_json_error(response, 400, "invalid_request", mentions="code")
    assert not AccessToken.objects.exists()


@pytest.mark.parametrize("url, auth", [(INTROSPECT_URL, SERVICE), (REVOKE_URL, CONFIDENTIAL)])
def test_repeated_token_at_introspect_and_revoke(client, url, auth):
    response = client.post(url, "token=a&token=b", content_type=FORM, **auth)
    assert_oauth_json_error(response, 400, "invalid_request", mentions="token")


# -- charset (issue: utf8 accepted; anything else 400 JSON, never 500 or HTML) ------------------------------

ACCEPTED_CHARSETS = ["utf8", "UTF-8", "utf-8", '"utf-8"', "UTF8"]
REFUSED_CHARSETS = ["'utf-8'", "ISO-8859-1", "latin1", "utf-16", "bogus"]


def _charset_request(client, url: str, charset: str):
    content_type = f"{FORM}; charset={charset}"
    # client.generic sends the bytes as they are (client.post would encode them in that charset).
    if url == PAR_URL:
        body = urlencode(request_params([MONEY_TRANSFER])).encode()
        return client.generic("POST", url, body, content_type=content_type, **CONFIDENTIAL)
    if url == TOKEN_URL:
        return client.generic(
            "POST", url, b"grant_type=client_credentials", content_type=content_type, **SERVICE
        )
    return client.generic("POST", url, b"token=unknown", content_type=content_type, **SERVICE)


@pytest.mark.parametrize("url", [PAR_URL, TOKEN_URL, INTROSPECT_URL, REVOKE_URL])
@pytest.mark.parametrize("charset", ACCEPTED_CHARSETS)
def test_utf8_charset_labels_are_accepted(client, debug, url, charset):
    response = _charset_request(client, url, charset)
    assert response.status_code in (200, 201), response.content


@pytest.mark.parametrize("url", [PAR_URL, TOKEN_URL, INTROSPECT_URL, REVOKE_URL])
@pytest.mark.parametrize("charset", REFUSED_CHARSETS)
def test_other_charsets_are_a_json_invalid_request(client, debug, url, charset):
    response = _charset_request(client, url, charset)
    assert_oauth_json_error(response, 400, "invalid_request", mentions="charset")
    assert not PushedAuthorizationRequest.objects.exists()


# -- Refresh-token replay (RFC 9700 §4.14.2) ----------------------------------------------------------------


def test_refresh_token_replay_revokes_the_whole_family(alice_client):
    assert oauth2_settings.REFRESH_TOKEN_REUSE_PROTECTION is False  # DOT's default: ours holds anyway
    first = tokens_for(alice_client, public=True)
    second = refresh(alice_client, first["refresh_token"], public=True)
    assert second.status_code == 200, second.content
    second = second.json()
    replay = refresh(alice_client, first["refresh_token"], public=True)
    assert_oauth_json_error(replay, 400, "invalid_grant", mentions="already used")
    # The active token of the family and its access token are revoked too.
    assert_oauth_json_error(refresh(alice_client, second["refresh_token"], public=True), 400, "invalid_grant")
    assert introspect(alice_client, second["access_token"]).json() == {"active": False}
    assert not RefreshToken.objects.filter(revoked__isnull=True).exists()
    assert not AccessToken.objects.exists()


def test_unknown_refresh_token_revokes_nothing(alice_client):
    issued = tokens_for(alice_client)
    assert_oauth_json_error(refresh(alice_client, "no-such-token"), 400, "invalid_grant")
    assert refresh(alice_client, issued["refresh_token"]).status_code == 200


# -- NUL and other bytes a database refuses -----------------------------------------------------------------


def test_nul_in_state_at_par(client):
    response = push(client, [MONEY_TRANSFER], state="a\x00b")
    assert_oauth_json_error(response, 400, "invalid_request", mentions="state")
    assert not PushedAuthorizationRequest.objects.exists()


@pytest.mark.parametrize("name", ["audience", "code", "client_id", "scope", "resource", "grant_type"])
def test_nul_at_the_token_endpoint_names_the_parameter(client, name):
    data = {"grant_type": "client_credentials", name: "\x00"}
    response = post_form(client, TOKEN_URL, data, **SERVICE)
    assert_oauth_json_error(response, 400, "invalid_request", mentions=name)


def test_nul_in_a_parameter_name(client):
    response = client.post(TOKEN_URL, "grant_type=client_credentials&a%00b=1", content_type=FORM, **SERVICE)
    assert_oauth_json_error(response, 400, "invalid_request", mentions="NUL")


def test_nul_in_basic_credentials_is_invalid_client(client):
    response = post_form(client, TOKEN_URL, {"grant_type": "client_credentials"}, **basic("demo\x00", "x"))
    assert_oauth_json_error(response, 401, "invalid_client", mentions="NUL")
    assert response["WWW-Authenticate"].startswith("Basic ")


def test_nul_inside_authorization_details_json(client):
    detail = {**MONEY_TRANSFER, "beneficiary": "Hanna\x00Herwitz"}
    response = push(client, [detail])
    assert_oauth_json_error(response, 400, "invalid_authorization_details", mentions="NUL")
    assert not PushedAuthorizationRequest.objects.exists()


def test_nul_at_authorize_is_a_page(alice_client):
    response = alice_client.get(f"{AUTHORIZE_URL}?client_id=demo%00client&response_type=code")
    assert response.status_code == 400
    assert response.context["error"] == "invalid_request"
    assert "client_id" in response.context["error_description"]


def test_invalid_utf8_is_refused(client):
    response = client.post(
        TOKEN_URL, b"grant_type=client_credentials&scope=%ff", content_type=FORM, **SERVICE
    )
    assert_oauth_json_error(response, 400, "invalid_request", mentions="scope")


def test_overlong_code_challenge_never_reaches_the_database(alice_client):
    response = push(alice_client, [MONEY_TRANSFER], code_challenge="a" * 200, code_challenge_method="S256")
    assert_oauth_json_error(response, 400, "invalid_request", mentions="code_challenge")


# -- Grants nobody offered ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "grant_type",
    ["urn:ietf:params:oauth:grant-type:device_code", "password", "implicit", "urn:example:nope", ""],
)
def test_grant_types_not_offered_are_unsupported_grant_type(client, grant_type):
    response = post_form(client, TOKEN_URL, {"grant_type": grant_type}, **CONFIDENTIAL)
    if grant_type:
        assert_oauth_json_error(response, 400, "unsupported_grant_type", mentions=grant_type)
    else:
        assert_oauth_json_error(response, 400, "invalid_request", mentions="grant_type")


def test_missing_grant_type_is_invalid_request(client):
    response = post_form(client, TOKEN_URL, {"code": "x"}, **CONFIDENTIAL)
    assert_oauth_json_error(response, 400, "invalid_request", mentions="grant_type is required")


def test_metadata_tells_the_same_story(client):
    metadata = client.get("/.well-known/oauth-authorization-server").json()
    assert metadata["grant_types_supported"] == list(parameters.GRANT_TYPES_SUPPORTED)
    assert metadata["response_types_supported"] == list(parameters.RESPONSE_TYPES_SUPPORTED)
    assert metadata["response_modes_supported"] == list(parameters.RESPONSE_MODES_SUPPORTED)
    for grant_type in metadata["grant_types_supported"]:
        response = post_form(client, TOKEN_URL, {"grant_type": grant_type}, **CONFIDENTIAL)
        assert response.json().get("error") != "unsupported_grant_type"


# -- Errors that are not JSON or carry the wrong code -------------------------------------------------------


def test_more_than_1000_fields_is_json(client, debug):
    body = "&".join(f"f{i}=1" for i in range(1001)) + "&grant_type=client_credentials"
    response = client.post(TOKEN_URL, body, content_type=FORM, **SERVICE)
    assert_oauth_json_error(response, 400, "invalid_request", mentions="parameters")


@pytest.mark.parametrize("url", [PAR_URL, TOKEN_URL, INTROSPECT_URL, REVOKE_URL])
def test_body_over_2_5_mb_is_413_json(client, debug, url):
    body = "grant_type=client_credentials&pad=" + "a" * (2_621_440 + 10)
    response = client.post(url, body, content_type=FORM, **SERVICE)
    assert_oauth_json_error(response, 413, "invalid_request", mentions="larger than")


def test_client_id_differing_from_basic_is_invalid_request(client):
    data = {"grant_type": "client_credentials", "client_id": "demo-client"}
    response = post_form(client, TOKEN_URL, data, **SERVICE)
    assert_oauth_json_error(response, 400, "invalid_request", mentions="client_id")


def test_basic_and_client_secret_together_is_invalid_request(client):
    data = {"grant_type": "client_credentials", "client_secret": "demo-service-secret"}
    response = post_form(client, TOKEN_URL, data, **SERVICE)
    assert_oauth_json_error(response, 400, "invalid_request", mentions="one method")


@pytest.mark.parametrize(
    "url, target",
    [
        (PAR_URL, "rar_provider.par.store"),
        (TOKEN_URL, "rar_provider.oauth.validator.RARValidator.authenticate_client"),
        (INTROSPECT_URL, "rar_provider.views.introspect.introspect_access_token"),
        (REVOKE_URL, "rar_provider.oauth.validator.RARValidator.revoke_token"),
    ],
)
def test_an_internal_error_is_a_json_500(client, debug, monkeypatch, url, target):
    def explode(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(target, explode)
    if url == PAR_URL:
        response = push(client, [MONEY_TRANSFER])
    elif url == TOKEN_URL:
        response = post_form(client, url, {"grant_type": "client_credentials"}, **SERVICE)
    else:
        response = post_form(
            client, url, {"token": "x"}, **(SERVICE if url == INTROSPECT_URL else CONFIDENTIAL)
        )
    body = assert_oauth_json_error(response, 500, "server_error")
    assert "boom" not in json.dumps(body)


@pytest.mark.parametrize(
    "auth, scheme",
    [
        (basic("demo-client", "wrong"), "Basic"),
        ({}, "Basic"),  # client_secret in the body: Basic is the challenge to use
    ],
)
def test_401_at_the_token_endpoint_names_the_scheme_used(client, auth, scheme):
    data = {"grant_type": "client_credentials"}
    if not auth:
        data.update(client_id="demo-service", client_secret="wrong")
    response = post_form(client, TOKEN_URL, data, **auth)
    assert_oauth_json_error(response, 401, "invalid_client")
    assert response["WWW-Authenticate"].startswith(f"{scheme} ")


def test_401_for_a_bearer_caller_is_a_bearer_challenge(client):
    response = post_form(client, INTROSPECT_URL, {"token": "x"}, HTTP_AUTHORIZATION="Bearer nope")
    assert_oauth_json_error(response, 401, "invalid_token")
    assert response["WWW-Authenticate"].startswith("Bearer ")


# -- The PAR row stores only what the server understands, and the body is bounded ---------------------------


def test_par_stores_only_authorization_request_parameters(client):
    response = push(client, [MONEY_TRANSFER], pad="x" * 1000, client_secret=None, foo="bar")
    assert response.status_code == 201, response.content
    stored = {name for name, _ in PushedAuthorizationRequest.objects.get().parameters}
    assert stored <= parameters.AUTHORIZATION_PARAMETERS
    assert not {"pad", "foo"} & stored


def test_par_with_a_2_mb_pad_is_413_and_stores_nothing(client):
    response = push(client, [MONEY_TRANSFER], pad="x" * 2_000_000)
    assert_oauth_json_error(response, 413, "invalid_request")
    assert not PushedAuthorizationRequest.objects.exists()


def test_request_size_limit_is_a_setting(client, settings):
    with override_settings(RAR_PROVIDER={**settings.RAR_PROVIDER, "MAX_REQUEST_BYTES": 2000}):
        response = push(client, [MONEY_TRANSFER], state="s" * 2000)
        assert_oauth_json_error(response, 413, "invalid_request", mentions="2000")
        assert push(client, [MONEY_TRANSFER]).status_code == 201


# -- An error code that agrees with metadata ----------------------------------------------------------------


def test_response_type_token_at_par_is_unsupported_response_type(client):
    response = push(client, [MONEY_TRANSFER], response_type="token")
    assert_oauth_json_error(response, 400, "unsupported_response_type", mentions="code")
    assert (
        "token"
        not in client.get("/.well-known/oauth-authorization-server").json()["response_types_supported"]
    )


@pytest.mark.parametrize("response_type", ["token", "code token", "id_token", "none"])
def test_other_response_types_at_authorize_are_unsupported(alice_client, response_type):
    params = redirect_params(alice_client.get(AUTHORIZE_URL, request_params(response_type=response_type)))
    assert params["error"] == "unsupported_response_type"
    assert not Grant.objects.exists()


def test_redirect_uri_mismatch_at_the_token_endpoint_is_invalid_grant(alice_client):
    code, verifier = code_for(alice_client)
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": "http://127.0.0.1:8000/demo/other/",
        "code_verifier": verifier,
    }
    assert_oauth_json_error(token_request(alice_client, data), 400, "invalid_grant", mentions="redirect_uri")


def test_a_500_leaves_nothing_half_written_under_atomic_requests(client, monkeypatch):
    from django.db import connection

    from rar_provider import par

    real_store = par.store

    def store_then_fail(**kwargs):
        real_store(**kwargs)
        raise RuntimeError("after the row was written")

    monkeypatch.setitem(connection.settings_dict, "ATOMIC_REQUESTS", True)
    monkeypatch.setattr("rar_provider.par.store", store_then_fail)
    assert_oauth_json_error(push(client, [MONEY_TRANSFER]), 500, "server_error")
    assert not PushedAuthorizationRequest.objects.exists()
