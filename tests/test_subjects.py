"""Unambiguous subjects (issue 13, point 3; rar_provider.subjects).

A client registered with id ``"1"`` (alice's primary key is 1) got tokens for alice with
``sub == client_id``; the guard took them for the client acting for itself and stored her transfer
with no user. Now a client's own token says so (``gty: "client_credentials"``), a user's token never
does, and the admin refuses a client id that reads as a user's subject.
"""

from __future__ import annotations

import json

import pytest
from oauth2_provider.models import Application

from demo_site.payments.models import Transfer
from rar_provider import access_tokens, keys
from rar_provider.subjects import reads_as_user_subject

from .conftest import ISSUER, MONEY_TRANSFER, REDIRECT_URI, approve, basic, exchange, push, redirect_params
from .test_admin import round_trip, staff  # noqa: F401 - the staff client fixture
from .test_demo_api import APPROVED, post_transfer
from .test_drf import bearer

pytestmark = pytest.mark.django_db

ONE = basic("1", "one-secret")


@pytest.fixture
def client_one(alice):
    """A client whose id is alice's primary key (registered before the admin refused such ids)."""
    assert alice.pk == 1
    return Application.objects.create(
        name="Client One",
        client_id="1",
        client_secret="one-secret",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=REDIRECT_URI,
    )


def test_example_a_client_with_id_1_acting_for_alice_executes_her_transfer_as_hers(
    alice_client, alice, client_one
):
    pushed = push(alice_client, [MONEY_TRANSFER], auth=ONE, client_id="1")
    assert pushed.status_code == 201, pushed.content
    code = redirect_params(approve(alice_client, pushed.json()["request_uri"], client_id="1"))["code"]
    token = exchange(alice_client, code, auth=ONE).json()["access_token"]
    claims = access_tokens.verify(token, keys.public_key_set(), issuer=ISSUER, audience="urn:demo:payments")
    assert claims["sub"] == claims["client_id"] == "1" and "gty" not in claims
    alice_client.logout()
    assert post_transfer(alice_client, token, APPROVED).status_code == 201
    assert Transfer.objects.get().user == alice  # before: stored with no user


def test_a_clients_own_token_says_so(client):
    from .test_drf import ACCOUNT_INFORMATION
    from .test_tokens import SERVICE, client_credentials

    response = client_credentials(client, SERVICE, authorization_details=json.dumps([ACCOUNT_INFORMATION]))
    token = response.json()["access_token"]
    claims = access_tokens.verify(token, keys.public_key_set(), issuer=ISSUER, audience="urn:demo:payments")
    assert claims["gty"] == "client_credentials" and claims["sub"] == "demo-service"


@pytest.mark.urls("tests.test_drf")
@pytest.mark.usefixtures("hand_made_tokens")
def test_sub_equal_to_client_id_without_gty_is_a_user_token(client, alice):
    """Equality no longer decides: a token naming the client as subject, but not marked, is refused."""
    made = access_tokens.build_claims(
        issuer=ISSUER,
        audience="urn:demo:payments",
        subject="demo-client",
        client_id="demo-client",
        expires_in=300,
    )
    response = client.get("/t/token/", **bearer(access_tokens.sign(made, keys.current_signing_key())))
    assert response.status_code == 401
    assert "not a user of this site" in response.json()["detail"]


@pytest.mark.parametrize(
    ("value", "reads"),
    [
        ("1", True),
        ("42", True),
        ("01", False),
        (" 1", False),
        ("1a", False),
        ("demo-client", False),
        ("", False),
    ],
)
def test_reads_as_user_subject(value, reads):
    assert reads_as_user_subject(value) is reads


@pytest.mark.parametrize(
    ("client_id", "refused"), [("1", True), ("3", True), ("svc-1", False), ("007", False)]
)
def test_admin_refuses_a_client_id_that_reads_as_a_users_subject(staff, client_id, refused):  # noqa: F811
    service = Application.objects.get(client_id="demo-service")
    change_url = f"/admin/oauth2_provider/application/{service.pk}/change/"
    _, response = round_trip(staff, change_url, client_id=client_id)
    if refused:
        assert response.status_code == 200
        assert "reads as a user&#x27;s ID" in response.content.decode()
        assert Application.objects.get(pk=service.pk).client_id == "demo-service"
    else:
        assert response.status_code == 302, response.content.decode()[:2000]
        assert Application.objects.get(pk=service.pk).client_id == client_id
