"""The host project's adapter (RAR_PROVIDER["ADAPTER"], issue 10 point 6): one class decides the
issuer, the subjects and extra claims; every place that states them follows it."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from rar_provider.adapter import ProviderAdapter

from .conftest import MONEY_TRANSFER, approve, exchange, post_form, pushed_request_uri, redirect_params
from .test_tokens import INTROSPECT_URL, PAYMENTS_API, claims_of

pytestmark = pytest.mark.django_db

ISSUER = "https://bank.example"


class BankAdapter(ProviderAdapter):
    def issuer(self, request=None) -> str:
        return ISSUER

    def user_subject(self, user) -> str:
        return f"customer-{user.pk}"

    def access_token_claims(self, claims, *, user, client, grant, resource_server):
        claims = super().access_token_claims(
            claims, user=user, client=client, grant=grant, resource_server=resource_server
        )
        claims["acr"] = "urn:bank:loa:3"
        claims["grant_state"] = grant.state if grant is not None else None
        return claims

    def introspection_response(self, data, *, token):
        return {**data, "acr": "urn:bank:loa:3"}


class GreedyAdapter(ProviderAdapter):
    def access_token_claims(self, claims, **context):
        return {**claims, "authorization_details": []}  # drops what the user approved: refused


class NotAnAdapter:
    pass


@pytest.fixture
def bank(settings):
    settings.RAR_PROVIDER = {**settings.RAR_PROVIDER, "ADAPTER": "tests.test_adapter.BankAdapter"}


def tokens(client) -> dict:
    params = redirect_params(approve(client, pushed_request_uri(client, [MONEY_TRANSFER])))
    assert params["iss"] == ISSUER  # RFC 9207: the authorization response names the adapter's issuer
    response = exchange(client, params["code"])
    assert response.status_code == 200, response.content
    return response.json()


def test_the_adapter_decides_issuer_subject_and_extra_claims_everywhere(alice_client, alice, bank):
    assert alice_client.get("/.well-known/oauth-authorization-server").json()["issuer"] == ISSUER
    body = tokens(alice_client)
    claims = claims_of(body["access_token"])
    assert claims["iss"] == ISSUER and claims["sub"] == f"customer-{alice.pk}"
    assert claims["acr"] == "urn:bank:loa:3" and claims["grant_state"] == "code_issued"
    assert claims["authorization_details"] == [MONEY_TRANSFER]  # protocol claims untouched
    introspected = post_form(
        alice_client, INTROSPECT_URL, {"token": body["access_token"]}, **PAYMENTS_API
    ).json()
    assert introspected["active"] is True and introspected["iss"] == ISSUER
    assert introspected["sub"] == f"customer-{alice.pk}" and introspected["acr"] == "urn:bank:loa:3"


def test_an_adapter_may_not_change_a_protocol_claim(alice_client, settings):
    settings.RAR_PROVIDER = {**settings.RAR_PROVIDER, "ADAPTER": "tests.test_adapter.GreedyAdapter"}
    params = redirect_params(approve(alice_client, pushed_request_uri(alice_client, [MONEY_TRANSFER])))
    response = exchange(alice_client, params["code"])
    assert response.json()["error"] == "server_error"  # oauthlib answers it with 400, as JSON
    assert "authorization_details" in response.json()["error_description"]


@pytest.mark.parametrize(
    "path, problem",
    [("tests.test_adapter.NotAnAdapter", "not a subclass"), ("tests.nowhere.Adapter", "No module named")],
)
def test_a_wrong_adapter_is_a_system_check_error(settings, path, problem):
    settings.RAR_PROVIDER = {**settings.RAR_PROVIDER, "ADAPTER": path}
    with pytest.raises(SystemCheckError, match=problem):
        call_command("check")
