"""Lifecycles (issue 8, example 3): what an operator deletes or switches off in admin ends every live
consent, code, token and pushed request issued under it; nothing issued under something else is
touched. Driven through admin as the demo's staff user and checked at the real endpoints."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from oauth2_provider.models import AccessToken, Application, Grant, RefreshToken

from rar_provider.models import (
    AuthorizationDetailType,
    AuthorizationGrant,
    ClientGrant,
    ClientPolicy,
    PushedAuthorizationRequest,
    ResourceServer,
)

from .conftest import (
    AUTHORIZE_URL,
    CONFIDENTIAL,
    MONEY_TRANSFER,
    TOKEN_URL,
    approve,
    authorize_query,
    basic,
    exchange,
    post_form,
    pushed_request_uri,
    redirect_params,
)

pytestmark = pytest.mark.django_db

SERVICE = basic("demo-service", "demo-service-secret")
ACCOUNT_INFORMATION = {"type": "account_information", "actions": ["list_accounts"]}
NOTE = {"type": "note", "text": "other API"}
AUTHORIZATIONS_URL = "/oauth/authorizations/"


@pytest.fixture
def staff() -> Client:
    browser = Client()
    browser.force_login(User.objects.get(username="admin"))
    return browser


@pytest.fixture
def payments() -> ResourceServer:
    return ResourceServer.objects.get(identifier="urn:demo:payments")


@pytest.fixture
def other_api() -> ResourceServer:
    """A second API with one type, so a test can see that what is not concerned stays."""
    api = ResourceServer.objects.create(
        name="Notes API",
        identifier="urn:test:notes",
        user_access_policy="allow_all",
        consent_policy="standard",
    )
    AuthorizationDetailType.objects.create(resource_server=api, type="note", label="Note", json_schema={})
    return api


def admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def tokens(client, details, **overrides) -> dict:
    """A code flow as alice: push, approve, exchange; the token response."""
    code = redirect_params(approve(client, pushed_request_uri(client, details, **overrides)))["code"]
    response = exchange(client, code)
    assert response.status_code == 200, response.content
    return response.json()


def unused_code(client, details, **overrides) -> str:
    return redirect_params(approve(client, pushed_request_uri(client, details, **overrides)))["code"]


def service_token(client, details=(ACCOUNT_INFORMATION,)) -> str:
    response = post_form(
        client,
        TOKEN_URL,
        {"grant_type": "client_credentials", "authorization_details": json.dumps(list(details))},
        **SERVICE,
    )
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


def introspect(client, token: str, auth=CONFIDENTIAL) -> dict:
    """Introspected by the token's own client (demo-client by default), which always may (RFC 7662 §4)."""
    response = post_form(client, "/oauth/introspect", {"token": token}, **auth)
    assert response.status_code == 200, response.content
    return response.json()


def refresh(client, refresh_token: str):
    return post_form(
        client, TOKEN_URL, {"grant_type": "refresh_token", "refresh_token": refresh_token}, **CONFIDENTIAL
    )


def assert_ended(client, body: dict) -> None:
    """An access token that introspects inactive and a refresh token that is refused (RFC 7662, 6749)."""
    assert introspect(client, body["access_token"]) == {"active": False}
    refused = refresh(client, body["refresh_token"])
    assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant", refused.content


def assert_live(client, body: dict) -> None:
    assert introspect(client, body["access_token"])["active"] is True
    assert RefreshToken.objects.filter(token_checksum__isnull=False, revoked__isnull=True).exists()


def test_example_3_deleting_an_api_in_admin_ends_everything_issued_under_it(
    alice_client, staff, payments, other_api
):
    granted = tokens(alice_client, [MONEY_TRANSFER])
    for _ in range(2):  # each refresh ends the access token before it: those are not counted again
        granted = refresh(alice_client, granted["refresh_token"]).json()
    code = unused_code(alice_client, [MONEY_TRANSFER])
    pending = pushed_request_uri(alice_client, [MONEY_TRANSFER])
    machine = service_token(alice_client)
    elsewhere = tokens(alice_client, [NOTE], audience=other_api.identifier)
    assert introspect(alice_client, granted["access_token"])["aud"] == "urn:demo:payments"

    # The confirmation lists what will be ended, not only the types and client grants.
    page = staff.get(admin_url(ResourceServer, "delete", payments.pk)).content.decode()
    assert "Live authorizations this ends" in page
    assert "2 grants are revoked" in page
    assert "1 unused authorization code is deleted" in page
    assert "2 access tokens are revoked" in page  # alice's and demo-service's
    assert "1 refresh token is revoked" in page
    assert "1 pending pushed request is refused" in page
    assert "Type allowed to a client: Demo Reporting Service may request account_information" in page

    response = staff.post(admin_url(ResourceServer, "delete", payments.pk), {"post": "yes"}, follow=True)
    assert response.status_code == 200
    assert "Ended what was issued under it: 2 grants are revoked" in response.content.decode()
    assert not ResourceServer.objects.filter(pk=payments.pk).exists()

    assert_ended(alice_client, granted)
    assert introspect(alice_client, machine, auth=SERVICE) == {"active": False}
    assert exchange(alice_client, code).json()["error"] == "invalid_grant"
    authorize = alice_client.get(AUTHORIZE_URL, authorize_query(pending))
    assert authorize.status_code in (302, 400) and "code=" not in authorize.get("Location", "")
    assert PushedAuthorizationRequest.objects.get(consumed_at__isnull=True).is_expired
    # Its consents are not active, and the user's list still names the API.
    assert set(
        AuthorizationGrant.objects.filter(api_name="Payments API").values_list("revoked", flat=True)
    ) != {None}
    assert not AuthorizationGrant.objects.filter(api_name="Payments API", revoked__isnull=True).exists()
    listing = alice_client.get(AUTHORIZATIONS_URL)
    states = {(e.api_name, e.state) for e in listing.context["entries"]}
    assert states == {("Payments API", "revoked"), ("Notes API", "active")}
    html = listing.content.decode()
    assert html.count("Demo Bank App · Payments API") == 2
    assert "This service is no longer offered" in html
    # The other API's grant is untouched.
    assert_live(alice_client, elsewhere)
    assert refresh(alice_client, elsewhere["refresh_token"]).status_code == 200


def test_deleting_an_api_with_nothing_live_says_so(staff, other_api):
    page = staff.get(admin_url(ResourceServer, "delete", other_api.pk)).content.decode()
    assert "Live authorizations this ends" not in page
    response = staff.post(admin_url(ResourceServer, "delete", other_api.pk), {"post": "yes"}, follow=True)
    assert "Nothing issued under it was live." in response.content.decode()


def test_deleting_a_type_ends_what_carries_it_and_keeps_the_rest(alice_client, staff, payments):
    transfer = tokens(alice_client, [MONEY_TRANSFER])
    information = tokens(alice_client, [ACCOUNT_INFORMATION])
    both_code = unused_code(alice_client, [ACCOUNT_INFORMATION, MONEY_TRANSFER])
    money_transfer = payments.detail_types.get(type="money_transfer")
    page = staff.get(admin_url(AuthorizationDetailType, "delete", money_transfer.pk)).content.decode()
    assert "2 grants are revoked" in page and "1 access token is revoked" in page
    staff.post(admin_url(AuthorizationDetailType, "delete", money_transfer.pk), {"post": "yes"})
    assert_ended(alice_client, transfer)
    assert exchange(alice_client, both_code).json()["error"] == "invalid_grant"
    assert introspect(alice_client, information["access_token"])["active"] is True
    assert refresh(alice_client, information["refresh_token"]).status_code == 200
    revoked = AuthorizationGrant.objects.filter(revoked__isnull=False)
    assert sorted(c.types.split() for c in revoked) == [
        ["account_information", "money_transfer"],
        ["money_transfer"],
    ]


def test_disabling_a_type_in_admin_ends_what_carries_it(alice_client, staff, payments):
    transfer = tokens(alice_client, [MONEY_TRANSFER])
    information = tokens(alice_client, [ACCOUNT_INFORMATION])
    money_transfer = payments.detail_types.get(type="money_transfer")
    form = (
        staff.get(admin_url(AuthorizationDetailType, "change", money_transfer.pk)).context["adminform"].form
    )
    data = {
        name: json.dumps(value, indent=2) if name == "json_schema" else value
        for name, value in form.initial.items()
        if name in form.fields and value is not None
    }
    data.update({"enabled": "", "resource_server": payments.pk, **management_form("display_fields")})
    response = staff.post(admin_url(AuthorizationDetailType, "change", money_transfer.pk), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    money_transfer.refresh_from_db()
    assert money_transfer.enabled is False
    assert_ended(alice_client, transfer)
    assert introspect(alice_client, information["access_token"])["active"] is True
    # Enabling it again restores nothing: the client asks again.
    money_transfer.enabled = True
    money_transfer.save()
    assert introspect(alice_client, transfer["access_token"]) == {"active": False}


def management_form(prefix: str, total: int = 0, initial: int = 0) -> dict:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def test_taking_a_type_out_of_a_client_grant_ends_the_clients_tokens(client, staff):
    machine = service_token(client)
    policy = ClientPolicy.objects.get(application__client_id="demo-service")
    grant = ClientGrant.objects.get(policy=policy)
    data = {
        "require_pushed_authorization_requests": "",
        "application": policy.application_id,
        **management_form("grants", total=1, initial=1),
        "grants-0-id": grant.pk,
        "grants-0-policy": policy.pk,
        "grants-0-resource_server": grant.resource_server_id,
        # no grants-0-detail_types: every type taken out
    }
    response = staff.post(admin_url(ClientPolicy, "change", policy.pk), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert list(grant.detail_types.all()) == []
    assert introspect(client, machine, auth=SERVICE) == {"active": False}


def test_deleting_a_client_grant_ends_the_clients_tokens(client, staff):
    machine = service_token(client)
    policy = ClientPolicy.objects.get(application__client_id="demo-service")
    page = staff.get(admin_url(ClientPolicy, "delete", policy.pk)).content.decode()
    assert "1 access token is revoked" in page
    staff.post(admin_url(ClientPolicy, "delete", policy.pk), {"post": "yes"})
    assert not ClientGrant.objects.exists()
    assert introspect(client, machine, auth=SERVICE) == {"active": False}


def test_an_api_policy_set_to_deny_all_ends_what_it_no_longer_allows(alice_client, client, payments):
    granted = tokens(alice_client, [MONEY_TRANSFER])
    machine = service_token(client)
    payments.client_access_policy = "deny_all"
    payments.save()
    assert introspect(client, machine, auth=SERVICE) == {"active": False}
    assert introspect(alice_client, granted["access_token"])["active"] is True  # the user policy is unchanged
    payments.user_access_policy = "deny_all"
    payments.save()
    assert_ended(alice_client, granted)


def test_renaming_a_type_ends_what_carries_the_old_name(alice_client, payments):
    granted = tokens(alice_client, [MONEY_TRANSFER])
    money_transfer = payments.detail_types.get(type="money_transfer")
    money_transfer.type = "money_transfer_v2"
    money_transfer.json_schema = {}
    money_transfer.save()
    assert_ended(alice_client, granted)


def test_disabling_a_user_in_admin_ends_everything_issued_to_them(alice_client, staff, alice, other_api):
    from rar_provider.lifecycles.plan import issued_to_user

    granted = tokens(alice_client, [MONEY_TRANSFER])
    granted = refresh(alice_client, granted["refresh_token"]).json()
    elsewhere = tokens(alice_client, [NOTE], audience=other_api.identifier)
    code = unused_code(alice_client, [MONEY_TRANSFER])
    machine = service_token(alice_client)
    live = issued_to_user(alice).counts()  # the access token the refresh ended is not live
    assert (live["access_tokens"], live["refresh_tokens"], live["codes"]) == (2, 2, 1)
    form = staff.get(reverse("admin:auth_user_change", args=[alice.pk])).context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None and name != "password"}
    data.update(
        {
            "is_active": "",
            "last_login_0": "",
            "last_login_1": "",
            "date_joined_0": alice.date_joined.strftime("%Y-%m-%d"),
            "date_joined_1": alice.date_joined.strftime("%H:%M:%S"),
            "groups": [],
            "user_permissions": [],
        }
    )
    response = staff.post(reverse("admin:auth_user_change", args=[alice.pk]), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert_ended(alice_client, granted)
    assert_ended(alice_client, elsewhere)
    assert exchange(alice_client, code).json()["error"] == "invalid_grant"
    assert not AuthorizationGrant.objects.filter(user=alice, revoked__isnull=True).exists()
    # The client's own token is not hers: it stays.
    assert introspect(alice_client, machine, auth=SERVICE)["active"] is True


def test_deleting_a_user_or_a_client_takes_their_grants_with_them(alice_client, staff, alice):
    granted = tokens(alice_client, [MONEY_TRANSFER])
    machine = service_token(alice_client)
    # DOT's admin refuses to delete token rows (its token admins allow revoking only), so admin
    # refuses to delete a user or client that has tokens, and nothing changes.
    refused = staff.post(reverse("admin:auth_user_delete", args=[alice.pk]), {"post": "yes"})
    assert refused.status_code == 403
    assert introspect(staff, granted["access_token"])["active"] is True
    # Deleted from code, the cascade takes DOT's tokens and codes and our consents with them.
    alice.delete()
    assert introspect(staff, granted["access_token"]) == {"active": False}
    assert refresh(staff, granted["refresh_token"]).json()["error"] == "invalid_grant"
    assert not AuthorizationGrant.objects.given().exists() and not Grant.objects.exists()
    Application.objects.get(client_id="demo-service").delete()
    answer = post_form(staff, "/oauth/introspect", {"token": machine}, **CONFIDENTIAL)
    assert answer.json() == {"active": False}
    assert not AccessToken.objects.exists()


def test_moving_a_client_grant_to_another_api_ends_what_the_old_one_allowed(client, other_api, payments):
    machine = service_token(client)
    grant = ClientGrant.objects.get(policy__application__client_id="demo-service")
    grant.resource_server = other_api
    grant.save()
    assert introspect(client, machine, auth=SERVICE) == {"active": False}


def test_bulk_delete_of_apis_lists_and_ends_what_each_issued(alice_client, staff, payments, other_api):
    granted = tokens(alice_client, [MONEY_TRANSFER])
    elsewhere = tokens(alice_client, [NOTE], audience=other_api.identifier)
    changelist = admin_url(ResourceServer, "changelist")
    selected = {"action": "delete_selected", "_selected_action": [payments.pk, other_api.pk]}
    confirm = staff.post(changelist, selected).content.decode()
    assert "2 grants are revoked" in confirm and "2 access tokens are revoked" in confirm
    done = staff.post(changelist, {**selected, "post": "yes"}, follow=True).content.decode()
    assert "Ended what was issued under it: 2 grants are revoked" in done
    assert not ResourceServer.objects.exists()
    assert_ended(alice_client, granted)
    assert_ended(alice_client, elsewhere)
