"""RFC 9396 authorization_details through the real PAR, authorization and token endpoints (RAR-xx)."""

from __future__ import annotations

import json

import pytest
from oauth2_provider.models import AccessToken, Application, RefreshToken

from rar_provider.models import (
    AccessPolicy,
    AuthorizationDetailType,
    ClientGrant,
    ClientPolicy,
    IssuedAccessToken,
    IssuedRefreshToken,
    PushedAuthorizationRequest,
    ResourceServer,
)

from .conftest import (
    AUTHORIZE_URL,
    MONEY_TRANSFER,
    TOKEN_URL,
    approve,
    authorize_query,
    exchange,
    post_form,
    push,
    pushed_request_uri,
    redirect_params,
    request_params,
)

pytestmark = pytest.mark.django_db

PAYMENT_INITIATION = {  # RFC 9396 §2
    "type": "payment_initiation",
    "actions": ["initiate", "status", "cancel"],
    "locations": ["https://example.com/payments"],
    "instructedAmount": {"currency": "EUR", "amount": "123.50"},
    "creditorName": "Merchant A",
    "creditorAccount": {"iban": "DE02100100109307118603"},
    "remittanceInformationUnstructured": "Ref Number Merchant",
}
ACCOUNT_INFORMATION = {  # RFC 9396 §2
    "type": "account_information",
    "actions": ["list_accounts", "read_balances", "read_transactions"],
    "locations": ["https://example.com/accounts"],
}


def par_error(client, details, error="invalid_authorization_details"):
    response = push(client, details)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error"] == error, body
    assert not PushedAuthorizationRequest.objects.exists()
    return body["error_description"]


@pytest.mark.parametrize(
    "raw, mentions",
    [
        ("{", "not valid JSON"),
        ('{"type": "money_transfer"}', "array"),
        ("[]", "empty"),
        ('["money_transfer"]', "authorization_details[0]"),
        ('[{"amount": 1}]', "type"),
        ('[{"type": 7}]', "type"),
    ],
)
def test_rar_01_array_of_objects_with_string_type(client, raw, mentions):
    assert mentions in par_error(client, raw)


def test_rar_02_unknown_type(client):
    assert "'transfer_everything' is not a type of API urn:demo:payments" in par_error(
        client, [{"type": "transfer_everything"}]
    )


def test_rar_02_disabled_type(client):
    AuthorizationDetailType.objects.filter(type="money_transfer").update(enabled=False)
    assert "money_transfer" in par_error(client, [MONEY_TRANSFER])


def test_rar_02_type_not_allowed_to_client(client):
    ResourceServer.objects.update(user_access_policy=AccessPolicy.REQUIRE_CLIENT_GRANT)
    assert "not allowed for this client" in par_error(client, [MONEY_TRANSFER])
    # Granting the type to the client makes the same request valid.
    policy = ClientPolicy.objects.create(application=Application.objects.get(client_id="demo-client"))
    grant = ClientGrant.objects.create(policy=policy, resource_server=ResourceServer.objects.get())
    grant.detail_types.add(AuthorizationDetailType.objects.get(type="money_transfer"))
    assert push(client, [MONEY_TRANSFER]).status_code == 201


def test_rar_02_deny_all(client):
    ResourceServer.objects.update(user_access_policy=AccessPolicy.DENY_ALL)
    assert "not allowed" in par_error(client, [MONEY_TRANSFER])


def test_rar_02_front_channel_gets_az_error(alice_client):
    params = redirect_params(alice_client.get(AUTHORIZE_URL, request_params([{"type": "nope"}])))
    assert params["error"] == "invalid_authorization_details"
    assert "authorization_details[0].type 'nope'" in params["error_description"]
    assert params["state"] == "st-123"


@pytest.mark.parametrize(
    "change, mentions",
    [
        ({"beneficiary": None}, "'beneficiary' is a required property"),
        (
            {"instructedAmount": {"amount": "lots", "currency": "USD"}},
            "authorization_details[0].instructedAmount.amount",
        ),
        (
            {"instructedAmount": {"amount": 5, "currency": "usd"}},
            "authorization_details[0].instructedAmount.currency",
        ),
        ({"favouriteColour": "red"}, "favouriteColour"),
        ({"sourceAccount": 1234}, "authorization_details[0].sourceAccount"),
    ],
    ids=["missing", "wrong-type", "pattern", "unknown-field", "number-for-string"],
)
def test_rar_03_schema_violations_name_entry_and_field(client, change, mentions):
    detail = {**MONEY_TRANSFER, **change}
    detail = {k: v for k, v in detail.items() if v is not None}
    assert mentions in par_error(client, [detail])


def test_rar_03_second_entry_is_named(client):
    bad = {**MONEY_TRANSFER, "beneficiary": 5}
    assert "authorization_details[1].beneficiary" in par_error(client, [MONEY_TRANSFER, bad])


@pytest.mark.parametrize(
    "field, value",
    [
        ("actions", "read"),
        ("locations", [1]),
        ("datatypes", {"a": 1}),
        ("privileges", [None]),
        ("identifier", 5),
    ],
)
def test_rar_04_common_fields(client, field, value):
    AuthorizationDetailType.objects.create(
        resource_server=ResourceServer.objects.get(), type="free_form", json_schema={}
    )
    assert f"authorization_details[0].{field}" in par_error(client, [{"type": "free_form", field: value}])


def test_rar_05_several_entries_of_one_type(client):
    second = {**MONEY_TRANSFER, "beneficiary": "Jaime Lannister", "destinationAccount": "xxxxxxxxxxx5555"}
    assert push(client, [MONEY_TRANSFER, second]).status_code == 201


def test_rar_05_rfc_examples_accepted(client):
    assert push(client, [PAYMENT_INITIATION, ACCOUNT_INFORMATION]).status_code == 201


@pytest.mark.parametrize(
    "details, mentions",
    [
        ([MONEY_TRANSFER] * 6, "at most 5"),
        ([{**MONEY_TRANSFER, "subject": "x" * 256}], "255"),
        ([{"type": "money_transfer", **{f"p{i}": "v" for i in range(10)}}], "at most 10"),
        ([{"type": "money_transfer", "bad name!": "v"}], "bad name!"),
    ],
    ids=["entries", "string-length", "properties", "property-name"],
)
def test_rar_06_limits(client, details, mentions):
    assert mentions in par_error(client, details)


def test_rar_06_size_limit(client):
    big = [{**MONEY_TRANSFER, "subject": "x" * 250} for _ in range(5)]
    raw = json.dumps(big) + " " * 5000
    assert "bytes" in par_error(client, raw)


def test_rar_07_type_names_compare_exactly(client):
    assert "'Money_Transfer' is not a type" in par_error(
        client, [{**MONEY_TRANSFER, "type": "Money_Transfer"}]
    )


def test_rar_08_consent_shows_every_detail_escaped(alice_client):
    AuthorizationDetailType.objects.create(
        resource_server=ResourceServer.objects.get(), type="note", json_schema={}
    )
    evil = {"type": "note", "message": "<script>alert('x')</script>"}
    request_uri = pushed_request_uri(alice_client, [MONEY_TRANSFER, evil], scope="profile")
    page = alice_client.get(AUTHORIZE_URL, authorize_query(request_uri))
    html = page.content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    # Readable, labelled fields, not a JSON dump (money_transfer: the demo's own partial;
    # note: the generic partial).
    for text in (
        "Money transfer",
        "2,500.00 USD",
        "Hanna Herwitz",
        "From your account",
        "xxxxxxxxxxx1234",
        "<dt>Message</dt>",
        "Demo Bank App",
        "profile",
    ):
        assert text in html, text
    assert '"instructedAmount"' not in html


def test_rar_10_token_response_carries_details(alice_client):
    params = redirect_params(
        approve(alice_client, pushed_request_uri(alice_client, [MONEY_TRANSFER, ACCOUNT_INFORMATION]))
    )
    response = exchange(alice_client, params["code"])
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["authorization_details"] == [MONEY_TRANSFER, ACCOUNT_INFORMATION]
    assert "scope" not in body  # details only: no scope was requested or granted
    token = AccessToken.objects.get()
    assert token.rar_issued.authorization_details == [MONEY_TRANSFER, ACCOUNT_INFORMATION]
    assert token.rar_issued.resource_server.identifier == "urn:demo:payments"
    assert RefreshToken.objects.get().rar_issued.authorization_details == [
        MONEY_TRANSFER,
        ACCOUNT_INFORMATION,
    ]


def test_details_survive_a_refresh(alice_client):
    params = redirect_params(approve(alice_client, pushed_request_uri(alice_client)))
    tokens = exchange(alice_client, params["code"]).json()
    from .conftest import CONFIDENTIAL

    refreshed = post_form(
        alice_client,
        TOKEN_URL,
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        **CONFIDENTIAL,
    )
    assert refreshed.status_code == 200, refreshed.content
    assert refreshed.json()["authorization_details"] == [MONEY_TRANSFER]
    # The rotation revokes the old refresh token and ends the old access token (expired now, its
    # record kept): it is no longer live anywhere a token is checked.
    old_access, new_access = IssuedAccessToken.objects.order_by("pk")
    assert old_access.access_token.is_expired()
    assert not new_access.access_token.is_expired()
    assert new_access.access_token.source_refresh_token.token == tokens["refresh_token"]
    from .test_tokens import introspect

    assert introspect(alice_client, tokens["access_token"]).json() == {"active": False}
    assert introspect(alice_client, refreshed.json()["access_token"]).json()["active"] is True
    new_refresh = RefreshToken.objects.get(revoked__isnull=True)
    assert new_refresh.rar_issued.authorization_details == [MONEY_TRANSFER]
    assert IssuedRefreshToken.objects.count() == 2


def test_code_exchange_with_pkce_public_client(alice_client):
    from .conftest import pkce_pair

    verifier, challenge = pkce_pair()
    request_uri = pushed_request_uri(
        alice_client, auth={}, client_id="demo-public", code_challenge=challenge, code_challenge_method="S256"
    )
    params = redirect_params(approve(alice_client, request_uri, client_id="demo-public"))
    wrong = exchange(alice_client, params["code"], auth={}, client_id="demo-public", code_verifier="x" * 50)
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant"
    # A failed verifier does not burn the code in DOT; the right verifier succeeds.
    response = exchange(
        alice_client, params["code"], auth={}, client_id="demo-public", code_verifier=verifier
    )
    assert response.status_code == 200, response.content
    assert response.json()["authorization_details"] == [MONEY_TRANSFER]


def test_code_is_single_use(alice_client):
    params = redirect_params(approve(alice_client, pushed_request_uri(alice_client)))
    assert exchange(alice_client, params["code"]).status_code == 200
    again = exchange(alice_client, params["code"])
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


def test_unicode_and_reserved_characters_survive_the_round_trip(alice_client):
    detail = {**MONEY_TRANSFER, "beneficiary": "Zoë Łukasiewicz & Söhne", "subject": "50% off; a=b+c #1 ✓"}
    params = redirect_params(approve(alice_client, pushed_request_uri(alice_client, [detail])))
    body = exchange(alice_client, params["code"]).json()
    assert body["authorization_details"] == [detail]
