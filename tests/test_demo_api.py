"""The demo Payments API (``/api/transfers/``), its transfers page, and the demo client calling it.

The API executes a transfer only when the access token carries a
``money_transfer`` detail equal to it, and only once per detail. The last tests
run a live server: the demo client pushes, exchanges and calls the API over HTTP.
"""

from __future__ import annotations

import json
import re
from datetime import timedelta
from decimal import Decimal
from urllib.parse import urlparse

import pytest
from django.urls import reverse
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application

from demo_site.payments.matching import as_decimal, mismatched_fields
from demo_site.payments.models import Transfer
from rar_provider import access_tokens, keys

from .conftest import AUTHORIZE_URL, ISSUER, MONEY_TRANSFER
from .test_drf import token_from_code_flow

API_URL = "/api/transfers/"

#: The request body that matches MONEY_TRANSFER exactly.
APPROVED = {
    "instructedAmount": {"amount": "2500.00", "currency": "USD"},
    "sourceAccount": "xxxxxxxxxxx1234",
    "destinationAccount": "xxxxxxxxxxx9876",
    "beneficiary": "Hanna Herwitz",
    "subject": "A Lannister Always Pays His Debts",
}


def post_transfer(client, token: str, body: dict):
    return client.post(
        API_URL, json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )


def challenge(response) -> dict[str, str]:
    return dict(re.findall(r'(\w+)="([^"]*)"', response["WWW-Authenticate"]))


def changed(**fields) -> dict:
    body = json.loads(json.dumps(APPROVED))
    for name, value in fields.items():
        if name in ("amount", "currency"):
            body["instructedAmount"][name] = value
        else:
            body[name] = value
    return body


def token_for(user, details, client_id: str = "demo-client") -> str:
    """A token as the server signs and records it (for details the flow tests need no consent for).

    It is recorded like an issued token (DOT's AccessToken row), since the demo API asks the
    authorization server's tables whether a token is still live (revocation_check = "database").
    """
    claims = access_tokens.build_claims(
        issuer=ISSUER,
        audience="urn:demo:payments",
        subject=str(user.pk) if user else client_id,
        client_id=client_id,
        expires_in=300,
        authorization_details=details,
        client_acts_for_itself=user is None,
    )
    value = access_tokens.sign(claims, keys.current_signing_key())
    AccessToken.objects.create(
        token=value,
        user=user,
        application=Application.objects.get(client_id=client_id),
        expires=timezone.now() + timedelta(seconds=300),
        scope="",
    )
    return value


@pytest.fixture
def token(alice_client) -> str:
    """A real token from alice's approval of MONEY_TRANSFER (the client is then logged out)."""
    value = token_from_code_flow(alice_client)
    alice_client.logout()
    return value


pytestmark = pytest.mark.django_db


# --- POST /api/transfers/ -------------------------------------------------------------------------


@pytest.mark.parametrize("amount", ["2500.00", "2500", 2500, 2500.0])
def test_exactly_the_approved_transfer_is_executed(client, alice, token, amount):
    response = post_transfer(client, token, changed(amount=amount))
    assert response.status_code == 201, response.content
    transfer = Transfer.objects.get()
    assert (transfer.amount, transfer.currency) == (Decimal("2500.00"), "USD")
    assert (transfer.source_account, transfer.destination_account) == ("xxxxxxxxxxx1234", "xxxxxxxxxxx9876")
    assert transfer.beneficiary == "Hanna Herwitz" and transfer.subject == MONEY_TRANSFER["subject"]
    assert transfer.user == alice and transfer.client_id == "demo-client"
    assert transfer.authorization_detail == MONEY_TRANSFER and transfer.detail_index == 0
    assert (
        transfer.token_jti
        == access_tokens.verify(token, keys.public_key_set(), issuer=ISSUER, audience="urn:demo:payments")[
            "jti"
        ]
    )
    body = response.json()
    assert body["id"] == transfer.pk
    assert body["instructedAmount"] == {"amount": "2500.00", "currency": "USD"}
    assert body["beneficiary"] == "Hanna Herwitz"


def test_subject_may_be_left_out_and_the_approved_one_is_used(client, token):
    body = changed()
    del body["subject"]
    assert post_transfer(client, token, body).status_code == 201
    assert Transfer.objects.get().subject == MONEY_TRANSFER["subject"]


@pytest.mark.parametrize(
    "field, value, named",
    [
        ("amount", "2600.00", "instructedAmount.amount"),
        ("amount", "2500.01", "instructedAmount.amount"),
        ("amount", "250", "instructedAmount.amount"),
        ("currency", "EUR", "instructedAmount.currency"),
        ("sourceAccount", "xxxxxxxxxxx1235", "sourceAccount"),
        ("destinationAccount", "xxxxxxxxxxx0000", "destinationAccount"),
        ("beneficiary", "Tywin Lannister", "beneficiary"),
        ("beneficiary", "hanna herwitz", "beneficiary"),
        ("subject", "Something else", "subject"),
    ],
)
def test_a_transfer_differing_in_one_field_is_403_naming_it(client, token, field, value, named):
    response = post_transfer(client, token, changed(**{field: value}))
    assert response.status_code == 403, response.content
    params = challenge(response)
    assert params["error"] == "insufficient_scope" and params["realm"] == "urn:demo:payments"
    assert params["error_description"] == (
        f"{named} of this transfer does not match the approved money_transfer authorization detail"
    )
    assert response.json()["error"] == "insufficient_scope"
    assert not Transfer.objects.exists()
    # The refusal did not use the approval up.
    assert post_transfer(client, token, APPROVED).status_code == 201


def test_several_differing_fields_are_all_named(client, token):
    response = post_transfer(client, token, changed(amount="1", currency="EUR"))
    assert challenge(response)["error_description"] == (
        "instructedAmount.amount, instructedAmount.currency of this transfer do not match "
        "the approved money_transfer authorization detail"
    )


def test_a_replayed_token_is_refused_and_nothing_more_is_executed(client, token):
    assert post_transfer(client, token, APPROVED).status_code == 201
    again = post_transfer(client, token, APPROVED)
    assert again.status_code == 403
    assert challenge(again)["error_description"] == (
        "the approved money_transfer was already executed for this approval (one transfer each)"
    )
    assert Transfer.objects.count() == 1


def test_a_token_with_two_approved_transfers_executes_each_once(client, alice):
    other = {**MONEY_TRANSFER, "instructedAmount": {"amount": 10, "currency": "EUR"}}
    token = token_for(alice, [MONEY_TRANSFER, other, MONEY_TRANSFER])
    assert post_transfer(client, token, changed(amount="10", currency="EUR")).status_code == 201
    assert post_transfer(client, token, APPROVED).status_code == 201
    assert post_transfer(client, token, APPROVED).status_code == 201  # the second identical entry
    assert post_transfer(client, token, APPROVED).status_code == 403
    assert post_transfer(client, token, changed(amount="10", currency="EUR")).status_code == 403
    assert sorted(Transfer.objects.values_list("detail_index", flat=True)) == [0, 1, 2]


def test_a_token_without_a_money_transfer_is_403(client, alice):
    token = token_for(alice, [{"type": "account_information", "actions": ["list_accounts"]}])
    response = post_transfer(client, token, APPROVED)
    assert response.status_code == 403
    assert (
        challenge(response)["error_description"] == "the token carries no money_transfer authorization detail"
    )


def test_no_token_is_401_and_an_invalid_one_401_invalid_token(client, token):
    response = client.post(API_URL, json.dumps(APPROVED), content_type="application/json")
    assert response.status_code == 401 and response["WWW-Authenticate"] == (
        'Bearer realm="urn:demo:payments", DPoP realm="urn:demo:payments", algs="ES256 PS256 EdDSA"'
    )
    response = post_transfer(client, token[:-4] + "AAAA", APPROVED)
    assert response.status_code == 401 and challenge(response)["error"] == "invalid_token"
    assert not Transfer.objects.exists()


@pytest.mark.parametrize(
    "body, field",
    [
        (changed(amount="2500.001"), "instructedAmount"),
        (changed(amount="-2500"), "instructedAmount"),
        (changed(amount=True), "instructedAmount"),
        (changed(currency="usd"), "instructedAmount"),
        ({k: v for k, v in APPROVED.items() if k != "beneficiary"}, "beneficiary"),
        ({**APPROVED, "actions": ["initiate"]}, "actions"),
    ],
)
def test_a_malformed_transfer_is_400(client, token, body, field):
    response = post_transfer(client, token, body)
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Transfer.objects.exists()


# --- GET /api/transfers/ and the page -------------------------------------------------------------


READ_TRANSACTIONS = {"type": "account_information", "actions": ["read_transactions"]}


def test_get_lists_the_transfers_of_the_tokens_user_only(client, alice, django_user_model, token):
    post_transfer(client, token, APPROVED)
    admin = django_user_model.objects.get(username="admin")
    post_transfer(client, token_for(admin, [MONEY_TRANSFER]), APPROVED)
    assert Transfer.objects.count() == 2
    reader = token_for(alice, [READ_TRANSACTIONS])
    listed = client.get(API_URL, HTTP_AUTHORIZATION=f"Bearer {reader}")
    assert listed.status_code == 200
    transfers = listed.json()["transfers"]
    assert [t["id"] for t in transfers] == [Transfer.objects.get(user=alice).pk]
    assert transfers[0]["instructedAmount"] == {"amount": "2500.00", "currency": "USD"}
    # A client acting for itself sees its own (none), not its users'.
    service = token_for(None, [READ_TRANSACTIONS], "demo-service")
    assert client.get(API_URL, HTTP_AUTHORIZATION=f"Bearer {service}").json() == {"transfers": []}
    assert client.get(API_URL).status_code == 401


@pytest.mark.parametrize(
    "details",
    [
        [MONEY_TRANSFER],  # the token of one payment does not read the history (issue 13)
        [{"type": "account_information", "actions": ["list_accounts", "read_balances"]}],
        [{"type": "account_information"}],
    ],
    ids=["money_transfer", "other actions", "no actions"],
)
def test_listing_transfers_needs_a_detail_that_reads_transactions(client, alice, token, details):
    post_transfer(client, token, APPROVED)
    response = client.get(API_URL, HTTP_AUTHORIZATION=f"Bearer {token_for(alice, details)}")
    assert response.status_code == 403
    assert "account_information" in challenge(response)["error_description"]
    assert "2500" not in response.content.decode()


def test_transfers_page_shows_the_users_transfers(client, alice, token):
    assert client.get("/demo/transfers/").status_code == 302  # login first
    client.force_login(alice)
    empty = client.get("/demo/transfers/")
    assert b'id="no-transfers"' in empty.content
    post_transfer(client, token, APPROVED)
    page = client.get("/demo/transfers/")
    assert page.status_code == 200
    assert b"2500.00 USD" in page.content and b"Hanna Herwitz" in page.content


def test_url_names_reverse():
    assert reverse("api-transfers") == API_URL
    assert reverse("demo-transfers") == "/demo/transfers/"
    assert reverse("demo-transfer") == "/demo/transfer/"


# --- matching, pure -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, expected",
    [
        (2500, Decimal(2500)),
        ("2500.00", Decimal(2500)),
        (0.1, Decimal("0.1")),
        (True, None),
        ("x", None),
        ("NaN", None),
        (None, None),
        ([1], None),
    ],
)
def test_as_decimal(value, expected):
    assert as_decimal(value) == expected


def test_mismatched_fields_needs_an_approved_amount_that_is_a_number():
    detail = {**MONEY_TRANSFER, "instructedAmount": {"amount": True, "currency": "USD"}}
    request = {**APPROVED, "instructedAmount": {"amount": Decimal(1), "currency": "USD"}}
    assert mismatched_fields(detail, request) == ["instructedAmount.amount"]
    assert (
        mismatched_fields(
            MONEY_TRANSFER, {**request, "instructedAmount": {"amount": Decimal("2500.00"), "currency": "USD"}}
        )
        == []
    )


# --- the demo client calls the API (live server) --------------------------------------------------


@pytest.fixture
def demo_server(live_server, load_demo_data, settings):
    settings.DEMO_AS_URL = live_server.url
    return live_server


@pytest.mark.django_db(transaction=True)
def test_demo_callback_shows_the_jwt_and_executes_exactly_the_approved_transfer(client, demo_server):
    client.post("/accounts/login/", {"username": "alice", "password": "wonderland-42"})
    authorize = client.post("/demo/start/")["Location"]
    consent = client.get(authorize)
    decision = client.post(
        AUTHORIZE_URL, {"transaction": consent.context["transaction"], "decision": "allow"}
    )
    callback = urlparse(decision["Location"])
    shown = client.get(f"{callback.path}?{callback.query}")
    exchanged = client.post(
        callback.path,
        {"code": shown.context["code"], "state": shown.context["state"], "iss": shown.context["iss"]},
    )
    assert exchanged.context["token_status"] == 200, exchanged.context["token_response"]
    # The page shows the JWT's header and claims; its authorization_details are what alice approved.
    header = json.loads(exchanged.context["jwt_header_json"])
    claims = json.loads(exchanged.context["jwt_claims_json"])
    assert header["typ"] == "at+jwt" and header["kid"] == keys.current_signing_key().kid
    assert claims["aud"] == "urn:demo:payments" and claims["iss"] == ISSUER
    assert claims["authorization_details"] == [MONEY_TRANSFER]
    html = exchanged.content.decode()
    assert 'id="jwt-claims"' in html and "Execute this transfer" in html and "Try a different amount" in html
    # The token stays server side: not in the page's forms, not in a URL.
    access_token = exchanged.context["token_response"]["access_token"]
    assert client.session["demo_client_token"]["access_token"] == access_token
    assert f'value="{access_token}"' not in html

    # "Try a different amount": the API refuses and says why.
    different = client.post("/demo/transfer/", {"amount": "different"})
    assert different.context["api_status"] == 403
    assert 'error="insufficient_scope"' in different.context["api_www_authenticate"]
    assert "instructedAmount.amount" in different.context["api_www_authenticate"]
    assert b"instructedAmount.amount" in different.content
    assert not Transfer.objects.exists()

    # "Execute this transfer": executed once, exactly as approved.
    executed = client.post("/demo/transfer/", {"amount": "approved"})
    assert executed.context["api_status"] == 201, executed.context["api_response_json"]
    transfer = Transfer.objects.get()
    assert (transfer.amount, transfer.currency, transfer.beneficiary) == (
        Decimal("2500"),
        "USD",
        "Hanna Herwitz",
    )
    assert transfer.user.username == "alice" and transfer.token_jti == claims["jti"]
    assert b"/demo/transfers/" in executed.content

    again = client.post("/demo/transfer/", {"amount": "approved"})
    assert again.context["api_status"] == 403 and "already executed" in again.context["api_www_authenticate"]
    assert Transfer.objects.count() == 1
    assert b"Hanna Herwitz" in client.get("/demo/transfers/").content


@pytest.mark.django_db(transaction=True)
def test_demo_transfer_without_a_held_token_says_so(client, demo_server):
    response = client.post("/demo/transfer/", {"amount": "approved"})
    assert response.status_code == 400
    assert b'id="api-error"' in response.content


def test_demo_client_holding_an_encrypted_token_shows_only_the_token_responses_types(client):
    session = client.session
    session["demo_client_token"] = {
        "access_token": "a.b.c.d.e",
        "authorization_details": [{"type": "money_transfer"}],
    }
    session.save()
    response = client.post("/demo/transfer/", {"amount": "approved"})
    assert response.status_code == 400  # nothing to send: the client does not know the transfer's fields
    html = response.content.decode()
    assert 'id="granted-details"' in html and "only the API can read it" in html
    assert 'id="jwt-claims"' not in html and "Execute this transfer" not in html
