"""Authorization server metadata (RFC 8414), with the PAR (RFC 9126 §5), RAR (RFC 9396 §10) and
RFC 9207 fields (REQUIREMENTS.md MD-01, PAR-01, RAR-15, SEC-02, SEC-03)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import resolve

from rar_provider.models import AuthorizationDetailType, ResourceServer
from rar_provider.views.metadata import ServerMetadataView

from .conftest import ISSUER

pytestmark = pytest.mark.django_db

OAUTH_METADATA_URL = "/.well-known/oauth-authorization-server"
OIDC_METADATA_URL = "/.well-known/openid-configuration"
DEMO_TYPES = ["account_information", "money_transfer", "payment_initiation"]

ENDPOINTS = {
    "authorization_endpoint": "/oauth/authorize",
    "token_endpoint": "/oauth/token",
    "revocation_endpoint": "/oauth/revoke",
    "introspection_endpoint": "/oauth/introspect",
    "pushed_authorization_request_endpoint": "/oauth/par",
}
ENDPOINT_VIEW_NAMES = {
    "authorization_endpoint": "rar_provider:authorize",
    "token_endpoint": "rar_provider:token",
    "revocation_endpoint": "rar_provider:revoke",
    "introspection_endpoint": "rar_provider:introspect",
    "pushed_authorization_request_endpoint": "rar_provider:par",
}


def metadata(client, url: str = OAUTH_METADATA_URL) -> dict:
    response = client.get(url)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    return response.json()


def test_md_01_both_documents_are_the_same(client):
    oauth = metadata(client, OAUTH_METADATA_URL)
    oidc = metadata(client, OIDC_METADATA_URL)
    assert oauth == oidc
    assert oauth["issuer"] == ISSUER


def test_md_01_both_urls_are_served_by_the_metadata_view():
    for url in (OAUTH_METADATA_URL, OIDC_METADATA_URL):
        match = resolve(url)
        assert match.func.view_class is ServerMetadataView
        assert match.namespace == "rar_provider"


def test_md_01_issuer_is_the_configured_one(client):
    assert settings.RAR_PROVIDER["ISSUER"] == ISSUER  # the test settings are the demo's
    assert metadata(client)["issuer"] == "http://127.0.0.1:8000"


@pytest.mark.parametrize("key, path", sorted(ENDPOINTS.items()))
def test_md_01_endpoints_absolute_under_the_issuer(client, key, path):
    data = metadata(client)
    assert data[key] == ISSUER + path


@pytest.mark.parametrize("key, view_name", sorted(ENDPOINT_VIEW_NAMES.items()))
def test_md_01_endpoints_resolve_to_their_views(client, key, view_name):
    url = metadata(client)[key]
    assert url.startswith(ISSUER + "/")
    match = resolve(url[len(ISSUER) :])
    assert match.view_name == view_name
    assert callable(match.func)


def test_md_01_endpoint_urls_answer(client):
    """The advertised URLs are real: nothing 404s (a GET on POST-only endpoints is 405 or 400)."""
    data = metadata(client)
    for key in ENDPOINTS:
        response = client.get(data[key][len(ISSUER) :])
        assert response.status_code != 404, (key, response.status_code)


def test_md_01_cors_open_and_get_only(client):
    response = client.get(OAUTH_METADATA_URL)
    assert response["Access-Control-Allow-Origin"] == "*"
    assert client.post(OAUTH_METADATA_URL).status_code == 405


def test_md_01_head_is_allowed(client):
    response = client.head(OAUTH_METADATA_URL)
    assert response.status_code == 200


def test_par_01_pushed_authorization_request_endpoint(client):
    data = metadata(client)
    assert data["pushed_authorization_request_endpoint"] == ISSUER + "/oauth/par"
    assert data["require_pushed_authorization_requests"] is False


def test_par_01_par_required_follows_the_setting(client):
    with override_settings(RAR_PROVIDER={**settings.RAR_PROVIDER, "PAR_REQUIRED": True}):
        assert metadata(client)["require_pushed_authorization_requests"] is True
        assert metadata(client, OIDC_METADATA_URL)["require_pushed_authorization_requests"] is True
    assert metadata(client)["require_pushed_authorization_requests"] is False


def test_par_01_par_disabled_is_not_advertised(client):
    with override_settings(RAR_PROVIDER={**settings.RAR_PROVIDER, "PAR_ENABLED": False}):
        data = metadata(client)
    assert "pushed_authorization_request_endpoint" not in data
    assert data["token_endpoint"] == ISSUER + "/oauth/token"


def test_rar_15_types_supported_are_the_demo_types(client):
    types = metadata(client)["authorization_details_types_supported"]
    assert types == DEMO_TYPES
    assert types == sorted(types)


def test_rar_15_disabled_type_is_not_advertised(client):
    AuthorizationDetailType.objects.filter(type="payment_initiation").update(enabled=False)
    assert metadata(client)["authorization_details_types_supported"] == [
        "account_information",
        "money_transfer",
    ]


def test_rar_15_added_type_is_advertised(client):
    api = ResourceServer.objects.get(identifier="urn:demo:payments")
    AuthorizationDetailType.objects.create(resource_server=api, type="direct_debit", json_schema={})
    assert metadata(client)["authorization_details_types_supported"] == sorted([*DEMO_TYPES, "direct_debit"])


def test_rar_15_added_disabled_type_is_not_advertised(client):
    api = ResourceServer.objects.get(identifier="urn:demo:payments")
    AuthorizationDetailType.objects.create(resource_server=api, type="aaa_hidden", enabled=False)
    assert metadata(client)["authorization_details_types_supported"] == DEMO_TYPES


def test_rar_15_same_type_on_two_apis_is_listed_once(client):
    other = ResourceServer.objects.create(name="Other", identifier="urn:demo:other")
    AuthorizationDetailType.objects.create(resource_server=other, type="money_transfer")
    assert metadata(client)["authorization_details_types_supported"] == DEMO_TYPES


def test_rar_15_no_types_gives_an_empty_list(client):
    AuthorizationDetailType.objects.update(enabled=False)
    assert metadata(client)["authorization_details_types_supported"] == []


def test_sec_02_only_s256_pkce(client):
    assert metadata(client)["code_challenge_methods_supported"] == ["S256"]


def test_sec_02_plain_advertised_only_when_allowed(client):
    with override_settings(RAR_PROVIDER={**settings.RAR_PROVIDER, "PKCE_S256_ONLY": False}):
        assert metadata(client)["code_challenge_methods_supported"] == ["S256", "plain"]


def test_sec_03_iss_parameter_supported(client):
    assert metadata(client)["authorization_response_iss_parameter_supported"] is True


def test_sec_03_issuer_derived_from_the_request_when_unset(client):
    without_issuer = {k: v for k, v in settings.RAR_PROVIDER.items() if k != "ISSUER"}
    with override_settings(RAR_PROVIDER=without_issuer):
        data = metadata(client)
        assert metadata(client, OIDC_METADATA_URL) == data
    assert data["issuer"] == "http://testserver"
    for key, path in ENDPOINTS.items():
        assert data[key] == "http://testserver" + path


def test_sec_03_derived_issuer_follows_the_host(client):
    without_issuer = {k: v for k, v in settings.RAR_PROVIDER.items() if k != "ISSUER"}
    with override_settings(RAR_PROVIDER=without_issuer):
        data = client.get(OAUTH_METADATA_URL, HTTP_HOST="localhost").json()
    assert data["issuer"] == "http://localhost"
    assert data["token_endpoint"] == "http://localhost/oauth/token"


def test_sec_03_configured_issuer_trailing_slash_is_dropped(client):
    with override_settings(RAR_PROVIDER={**settings.RAR_PROVIDER, "ISSUER": "https://as.example.com/"}):
        data = metadata(client)
    assert data["issuer"] == "https://as.example.com"
    assert data["authorization_endpoint"] == "https://as.example.com/oauth/authorize"


def test_md_01_other_fields(client):
    data = metadata(client)
    assert data["response_types_supported"] == ["code"]
    assert data["response_modes_supported"] == ["query"]
    assert set(data["grant_types_supported"]) == {"authorization_code", "refresh_token", "client_credentials"}
    assert "none" in data["token_endpoint_auth_methods_supported"]
    assert "none" not in data["introspection_endpoint_auth_methods_supported"]
    assert data["scopes_supported"] == sorted(settings.OAUTH2_PROVIDER["SCOPES"])
