"""Partial approval, stored consents (standard / transactional), "Your authorizations" and Revoke,
through the real endpoints."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import AccessToken, Grant, RefreshToken
from oauthlib.oauth2.rfc6749 import errors as oauthlib_errors

from rar_provider import signals
from rar_provider.models import AuthorizationGrant, GrantState, IssuedAccessToken, ResourceServer

from .conftest import (
    AUTHORIZE_URL,
    CONFIDENTIAL,
    MONEY_TRANSFER,
    TOKEN_URL,
    approve,
    authorize_query,
    consent_transaction,
    exchange,
    post_form,
    pushed_request_uri,
    redirect_params,
    request_params,
)

pytestmark = pytest.mark.django_db

ACCOUNT_INFORMATION = {
    "type": "account_information",
    "actions": ["list_accounts", "read_balances"],
    "locations": ["https://example.com/accounts"],
}
AUTHORIZATIONS_URL = "/oauth/authorizations/"


@pytest.fixture
def payments() -> ResourceServer:
    return ResourceServer.objects.get(identifier="urn:demo:payments")


@pytest.fixture
def standard(payments) -> ResourceServer:
    payments.consent_policy = "standard"
    payments.save()
    return payments


def consent_page(client, details, **overrides):
    return client.get(AUTHORIZE_URL, authorize_query(pushed_request_uri(client, details, **overrides)))


def decide(client, page, *approved, choose=True, decision="allow"):
    data = {"transaction": consent_transaction(page), "decision": decision}
    if choose:
        data["choose_details"] = "1"
        data["approve_detail"] = [str(i) for i in approved]
    return client.post(AUTHORIZE_URL, data)


def tokens_for(client, response) -> dict:
    token = exchange(client, redirect_params(response)["code"])
    assert token.status_code == 200, token.content
    return token.json()


# -- partial approval (RAR-09) ---------------------------------------------------------------------------


def test_partial_approval_page_has_labelled_checkboxes(alice_client):
    page = consent_page(alice_client, [MONEY_TRANSFER, ACCOUNT_INFORMATION])
    html = page.content.decode()
    assert page.context["partial_approval"] is True
    assert 'name="choose_details"' in html
    for index in (0, 1):
        assert f'id="approve-{index}" name="approve_detail" value="{index}" checked' in html
        assert f'<label class="choice" for="approve-{index}">' in html
    assert "Authorize this Money transfer" in html and "Authorize this Account information" in html


def test_untick_one_entry_code_and_tokens_carry_the_rest(alice_client, alice):
    page = consent_page(alice_client, [MONEY_TRANSFER, ACCOUNT_INFORMATION])
    response = decide(alice_client, page, 1)
    body = tokens_for(alice_client, response)
    assert body["authorization_details"] == [ACCOUNT_INFORMATION]
    consent = AuthorizationGrant.objects.get()
    assert consent.authorization_details == [ACCOUNT_INFORMATION]
    assert consent.user == alice and consent.application.client_id == "demo-client"


def test_untick_the_other_entry(alice_client):
    page = consent_page(alice_client, [MONEY_TRANSFER, ACCOUNT_INFORMATION])
    assert tokens_for(alice_client, decide(alice_client, page, 0))["authorization_details"] == [
        MONEY_TRANSFER
    ]


def test_approve_everything_with_checkboxes(alice_client):
    page = consent_page(alice_client, [MONEY_TRANSFER, ACCOUNT_INFORMATION])
    body = tokens_for(alice_client, decide(alice_client, page, 0, 1))
    assert body["authorization_details"] == [MONEY_TRANSFER, ACCOUNT_INFORMATION]


def test_approving_nothing_is_access_denied(alice_client):
    page = consent_page(alice_client, [MONEY_TRANSFER, ACCOUNT_INFORMATION])
    params = redirect_params(decide(alice_client, page))
    assert params["error"] == "access_denied"
    assert params["error_description"] == "The user approved none of the requested authorization details."
    assert not Grant.objects.exists() and not AuthorizationGrant.objects.given().exists()


@pytest.mark.parametrize("value", ["2", "-1", "x", "0.5", "", "²", "١", "01", " 1", "1" * 5000])
def test_approved_index_must_name_an_entry(alice_client, value):
    page = consent_page(alice_client, [MONEY_TRANSFER, ACCOUNT_INFORMATION])
    response = alice_client.post(
        AUTHORIZE_URL,
        {
            "transaction": consent_transaction(page),
            "decision": "allow",
            "choose_details": "1",
            "approve_detail": ["0", value],
        },
    )
    assert response.status_code == 400
    assert response.context["error"] == "invalid_request"
    assert "approve_detail must name entries 0 to 1" in response.context["error_description"]
    assert not Grant.objects.exists() and not AuthorizationGrant.objects.given().exists()


def test_no_checkboxes_when_the_api_does_not_allow_it(alice_client, payments):
    payments.allow_partial_approval = False
    payments.save()
    page = consent_page(alice_client, [MONEY_TRANSFER, ACCOUNT_INFORMATION])
    assert 'name="approve_detail"' not in page.content.decode()
    # A crafted partial approval is refused, not silently widened to everything.
    response = decide(alice_client, page, 1)
    assert response.status_code == 400
    assert "cannot be approved in part" in response.context["error_description"]
    assert not Grant.objects.exists()


def test_no_checkbox_for_a_single_entry(alice_client):
    page = consent_page(alice_client, [MONEY_TRANSFER])
    assert page.context["partial_approval"] is False
    assert 'name="approve_detail"' not in page.content.decode()


def test_deny_ignores_checkboxes(alice_client):
    page = consent_page(alice_client, [MONEY_TRANSFER, ACCOUNT_INFORMATION])
    params = redirect_params(decide(alice_client, page, 0, decision="deny"))
    assert (
        params["error"] == "access_denied" and params["error_description"] == "The user denied the request."
    )


def test_details_granted_signal_carries_the_approved_subset(alice_client):
    seen = []

    def listener(sender, **kwargs):
        seen.append(kwargs["authorization_details"])

    signals.details_granted.connect(listener)
    try:
        decide(alice_client, consent_page(alice_client, [MONEY_TRANSFER, ACCOUNT_INFORMATION]), 1)
    finally:
        signals.details_granted.disconnect(listener)
    assert seen == [[ACCOUNT_INFORMATION]]


def test_details_granted_signal_on_reuse_carries_what_the_code_carries(alice_client, standard):
    """A reusable grant answering a narrower request issues a code carrying the request's details:
    the signal (and the event logged from it) says that, not the whole grant (found by a review)."""
    approve(alice_client, pushed_request_uri(alice_client, [MONEY_TRANSFER, ACCOUNT_INFORMATION]))
    seen = []

    def listener(sender, **kwargs):
        seen.append(kwargs["authorization_details"])

    signals.details_granted.connect(listener)
    try:
        page = alice_client.get(
            AUTHORIZE_URL, authorize_query(pushed_request_uri(alice_client, [ACCOUNT_INFORMATION]))
        )
    finally:
        signals.details_granted.disconnect(listener)
    assert page.status_code == 302 and "code=" in page["Location"]
    assert seen == [[ACCOUNT_INFORMATION]]


# -- stored consents -------------------------------------------------------------------------------------


def test_consent_is_stored_with_everything(alice_client, alice, payments):
    before = timezone.now()
    approve(alice_client, pushed_request_uri(alice_client, [MONEY_TRANSFER], scope="profile"))
    consent = AuthorizationGrant.objects.get()
    assert (consent.user, consent.application.client_id, consent.resource_server) == (
        alice,
        "demo-client",
        payments,
    )
    assert consent.scope == "profile"
    assert consent.authorization_details == [MONEY_TRANSFER]
    assert consent.created >= before and consent.revoked is None
    assert consent.expires - consent.created == pytest.approx(timedelta(days=90), abs=timedelta(seconds=5))
    assert consent.reusable is False  # the demo's Payments API is transactional
    assert consent.detail_types == ["money_transfer"]


def test_transactional_api_always_asks_again(alice_client):
    for _ in range(2):
        page = consent_page(alice_client, [MONEY_TRANSFER])
        assert page.status_code == 200
        redirect_params(decide(alice_client, page, choose=False))
    assert AuthorizationGrant.objects.count() == 2
    assert not AuthorizationGrant.objects.filter(reusable=True).exists()


def test_standard_api_reuses_a_covering_consent(alice_client, standard):
    first = tokens_for(
        alice_client,
        approve(alice_client, pushed_request_uri(alice_client, [MONEY_TRANSFER, ACCOUNT_INFORMATION])),
    )
    consent = AuthorizationGrant.objects.get()
    assert consent.reusable
    # The same request again: no consent page, a code straight away.
    again = alice_client.get(
        AUTHORIZE_URL, authorize_query(pushed_request_uri(alice_client, [MONEY_TRANSFER]))
    )
    body = tokens_for(alice_client, again)
    assert body["authorization_details"] == [MONEY_TRANSFER]
    assert first["access_token"] != body["access_token"]
    # A narrower request (fewer actions) is covered too (RFC 9396 §6.1 comparison).
    narrower = {**ACCOUNT_INFORMATION, "actions": ["list_accounts"]}
    page = alice_client.get(AUTHORIZE_URL, authorize_query(pushed_request_uri(alice_client, [narrower])))
    assert tokens_for(alice_client, page)["authorization_details"] == [narrower]
    assert AuthorizationGrant.objects.count() == 1
    # Every token was issued under the one grant, with the same grant_id (reuse is the same grant).
    assert IssuedAccessToken.objects.filter(grant=consent).count() == 3


@pytest.mark.parametrize(
    "details, overrides",
    [
        ([{**MONEY_TRANSFER, "instructedAmount": {"amount": 2501, "currency": "USD"}}], {}),
        ([MONEY_TRANSFER, ACCOUNT_INFORMATION], {}),  # more than was approved
        ([MONEY_TRANSFER, MONEY_TRANSFER], {}),  # one approved payment, twice
        ([MONEY_TRANSFER], {"scope": "accounts"}),  # a scope not consented to
        ([MONEY_TRANSFER], {"prompt": "consent"}),  # the client asks for a fresh consent
        (
            [MONEY_TRANSFER],
            {"client_id": "demo-public", "code_challenge": "x" * 43, "code_challenge_method": "S256"},
        ),
    ],
    ids=["other-amount", "more-entries", "twice", "more-scope", "prompt-consent", "other-client"],
)
def test_standard_api_asks_again_when_not_covered(alice_client, standard, details, overrides):
    approve(alice_client, pushed_request_uri(alice_client, [MONEY_TRANSFER]))
    client_id = overrides.get("client_id", "demo-client")
    response = alice_client.get(AUTHORIZE_URL, request_params(details, **overrides))
    assert response.status_code == 200, response.get("Location")
    assert response.templates[0].name == "rar_provider/consent.html"
    assert response.context["application"].client_id == client_id


def lower_amount_is_covered(requested, granted):
    rest = {k: v for k, v in requested.items() if k != "instructedAmount"}
    return rest == {k: v for k, v in granted.items() if k != "instructedAmount"} and (
        requested["instructedAmount"]["amount"] <= granted["instructedAmount"]["amount"]
    )


def test_reuse_compares_like_narrowing_with_type_comparators(alice_client, standard, settings):
    """A type-specific comparison (DETAIL_COMPARATORS, used for narrowing) also decides reuse."""
    approve(alice_client, pushed_request_uri(alice_client, [MONEY_TRANSFER]))
    lower = {**MONEY_TRANSFER, "instructedAmount": {"amount": 100, "currency": "USD"}}
    assert consent_page(alice_client, [lower]).status_code == 200  # default comparison: not covered
    settings.RAR_PROVIDER = {
        **settings.RAR_PROVIDER,
        "DETAIL_COMPARATORS": {"money_transfer": "tests.test_consents.lower_amount_is_covered"},
    }
    assert tokens_for(alice_client, consent_page(alice_client, [lower]))["authorization_details"] == [lower]


def test_expired_or_revoked_consent_is_not_reused(alice_client, standard):
    approve(alice_client, pushed_request_uri(alice_client, [MONEY_TRANSFER]))
    consent = AuthorizationGrant.objects.get()
    consent.expires = timezone.now() - timedelta(seconds=1)
    consent.save()
    assert consent_page(alice_client, [MONEY_TRANSFER]).status_code == 200
    consent.expires = timezone.now() + timedelta(days=1)
    consent.revoked = timezone.now()
    consent.save()
    assert consent_page(alice_client, [MONEY_TRANSFER]).status_code == 200
    consent.revoked = None
    consent.save()
    assert consent_page(alice_client, [MONEY_TRANSFER]).status_code == 302


def test_another_users_consent_is_not_reused(alice_client, standard, django_user_model):
    approve(alice_client, pushed_request_uri(alice_client, [MONEY_TRANSFER]))
    bob = Client()
    bob.force_login(django_user_model.objects.create_user("bob", password="bob-password-1"))
    assert consent_page(bob, [MONEY_TRANSFER]).status_code == 200


def test_prompt_none_succeeds_with_a_covering_consent_only(alice_client, standard):
    silent = redirect_params(alice_client.get(AUTHORIZE_URL, request_params([MONEY_TRANSFER], prompt="none")))
    assert silent["error"] == "consent_required"
    approve(alice_client, pushed_request_uri(alice_client, [MONEY_TRANSFER]))
    silent = redirect_params(alice_client.get(AUTHORIZE_URL, request_params([MONEY_TRANSFER], prompt="none")))
    assert silent["code"]


def test_reused_consent_consumes_the_pushed_request(alice_client, standard):
    approve(alice_client, pushed_request_uri(alice_client, [MONEY_TRANSFER]))
    request_uri = pushed_request_uri(alice_client, [MONEY_TRANSFER])
    redirect_params(alice_client.get(AUTHORIZE_URL, authorize_query(request_uri)))
    again = redirect_params(alice_client.get(AUTHORIZE_URL, authorize_query(request_uri)))
    assert again["error"] == "invalid_request_uri"


def test_no_grant_is_approved_when_the_code_cannot_be_issued(alice_client, monkeypatch):
    from rar_provider.grants import lifecycle

    def broken(grant):
        raise oauthlib_errors.ServerError(description="storage is down")

    monkeypatch.setattr(lifecycle, "code_issued", broken)
    params = redirect_params(approve(alice_client, pushed_request_uri(alice_client, [MONEY_TRANSFER])))
    assert params["error"] == "server_error"
    # The decision's transaction rolled back whole: the grant is still pending, and no code exists.
    assert list(AuthorizationGrant.objects.values_list("state", flat=True)) == [GrantState.PENDING]
    assert not Grant.objects.exists()


# -- codes and tokens are linked; revoking revokes them --------------------------------------------------


def refresh(client, refresh_token):
    return post_form(
        client, TOKEN_URL, {"grant_type": "refresh_token", "refresh_token": refresh_token}, **CONFIDENTIAL
    )


def test_tokens_and_refreshed_tokens_are_linked_to_the_consent(alice_client):
    body = tokens_for(alice_client, approve(alice_client, pushed_request_uri(alice_client, [MONEY_TRANSFER])))
    refreshed = refresh(alice_client, body["refresh_token"])
    assert refreshed.status_code == 200, refreshed.content
    grant = AuthorizationGrant.objects.get()
    # Rotation ended the first access token (expired now, still on record); both point at the grant.
    first, second = AccessToken.objects.order_by("pk")
    assert first.is_expired() and not second.is_expired()
    assert sorted(i.access_token_id for i in grant.access_tokens.all()) == [first.pk, second.pk]
    assert grant.refresh_tokens.count() == 2
    assert grant.codes.count() == 0  # the code was used up and deleted
    assert grant.state == GrantState.REDEEMED and grant.used is not None


def states(client, **query) -> list[tuple[int, str]]:
    """(consent pk, state) of the entries "Your authorizations" shows, in order."""
    return [(e.grant.pk, e.state) for e in client.get(AUTHORIZATIONS_URL, query).context["entries"]]


def test_authorizations_page_lists_and_revokes(alice_client, standard):
    body = tokens_for(alice_client, approve(alice_client, pushed_request_uri(alice_client, [MONEY_TRANSFER])))
    refreshed = refresh(alice_client, body["refresh_token"]).json()
    page = alice_client.get(AUTHORIZATIONS_URL)
    html = page.content.decode()
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    shown = [(e.grant.pk, e.state) for e in page.context["entries"]]
    assert shown == [(AuthorizationGrant.objects.get().pk, "active")]
    # Rendered with the same partial as the consent page.
    assert "rar_provider/details/money_transfer.html" in [t.name for t in page.templates]
    assert "2,500.00 USD" in html and "Hanna Herwitz" in html and "Demo Bank App" in html
    consent = AuthorizationGrant.objects.get()
    response = alice_client.post(f"/oauth/authorizations/{consent.pk}/revoke")
    assert response.status_code == 302 and response["Location"] == AUTHORIZATIONS_URL
    consent.refresh_from_db()
    assert consent.revoked is not None
    assert not AccessToken.objects.exists()
    assert RefreshToken.objects.filter(revoked__isnull=True).count() == 0
    for token in (body["refresh_token"], refreshed["refresh_token"]):
        assert refresh(alice_client, token).json()["error"] == "invalid_grant"
    after = alice_client.get(AUTHORIZATIONS_URL)
    assert [e.state for e in after.context["entries"]] == ["revoked"]
    assert "You revoked the authorization you gave Demo Bank App." in after.content.decode()
    assert "Revoke</button>" not in after.content.decode()


def test_revoke_deletes_an_unused_code(alice_client):
    code = redirect_params(approve(alice_client, pushed_request_uri(alice_client, [MONEY_TRANSFER])))["code"]
    consent = AuthorizationGrant.objects.get()
    alice_client.post(f"/oauth/authorizations/{consent.pk}/revoke")
    assert not Grant.objects.exists()
    assert exchange(alice_client, code).json()["error"] == "invalid_grant"


def test_revoke_sends_a_signal_once(alice_client):
    approve(alice_client, pushed_request_uri(alice_client, [MONEY_TRANSFER]))
    consent = AuthorizationGrant.objects.get()
    seen = []

    def listener(sender, grant, request, **kwargs):
        seen.append(grant.pk)

    signals.consent_revoked.connect(listener)
    try:
        alice_client.post(f"/oauth/authorizations/{consent.pk}/revoke")
        alice_client.post(f"/oauth/authorizations/{consent.pk}/revoke")  # already revoked: nothing more
    finally:
        signals.consent_revoked.disconnect(listener)
    assert seen == [consent.pk]


def test_revoked_standard_consent_is_no_longer_reused(alice_client, standard):
    approve(alice_client, pushed_request_uri(alice_client, [MONEY_TRANSFER]))
    alice_client.post(f"/oauth/authorizations/{AuthorizationGrant.objects.get().pk}/revoke")
    assert consent_page(alice_client, [MONEY_TRANSFER]).status_code == 200


def test_cannot_revoke_someone_elses(alice_client, django_user_model):
    approve(alice_client, pushed_request_uri(alice_client, [MONEY_TRANSFER]))
    consent = AuthorizationGrant.objects.get()
    bob = Client()
    bob.force_login(django_user_model.objects.create_user("bob", password="bob-password-1"))
    assert bob.post(f"/oauth/authorizations/{consent.pk}/revoke").status_code == 404
    assert bob.get(AUTHORIZATIONS_URL).context["entries"] == []
    consent.refresh_from_db()
    assert consent.revoked is None


def test_authorizations_pages_need_login_post_and_csrf(client, alice):
    assert client.get(AUTHORIZATIONS_URL)["Location"].startswith("/accounts/login/")
    assert client.post("/oauth/authorizations/1/revoke")["Location"].startswith("/accounts/login/")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)
    assert browser.get("/oauth/authorizations/1/revoke").status_code == 405
    assert browser.post("/oauth/authorizations/1/revoke").status_code == 403


def test_authorizations_page_empty(alice_client):
    html = alice_client.get(AUTHORIZATIONS_URL).content.decode()
    assert "No application has active access." in html


def test_transactional_consent_is_active_until_its_code_is_used_then_used(alice_client):
    """Example 10: a one-time transfer already executed reads "Used", with no Revoke, not "Active"."""
    code = redirect_params(approve(alice_client, pushed_request_uri(alice_client, [MONEY_TRANSFER])))["code"]
    pk = AuthorizationGrant.objects.get().pk
    assert states(alice_client) == [(pk, "active")]  # the code is not exchanged yet
    Grant.objects.update(expires=timezone.now() - timedelta(seconds=1))
    assert states(alice_client) == [(pk, "expired")]  # the code expired unused
    Grant.objects.update(expires=timezone.now() + timedelta(seconds=30))
    assert exchange(alice_client, code).status_code == 200
    assert states(alice_client) == [(pk, "used")]  # executed, while its access token still lives
    assert AccessToken.objects.filter(expires__gt=timezone.now()).exists()
    # Its tokens still live (a refresh token could mint more): the page says so, and offers Revoke
    # (found by a review: "It cannot be used again", no Revoke, while the refresh token worked).
    html = alice_client.get(AUTHORIZATIONS_URL).content.decode()
    assert "Used once, on" in html and "still holds a token issued under it" in html
    assert "<button" in html.split("<main", 1)[1]
    # Once nothing issued under it lives, it cannot be used again, and there is nothing to revoke.
    RefreshToken.objects.get().revoke()
    assert states(alice_client) == [(pk, "used")]
    html = alice_client.get(AUTHORIZATIONS_URL).content.decode()
    assert "Used once, on" in html and "It cannot be used again." in html
    assert "<button" not in html.split("<main", 1)[1]


def test_standard_consent_is_active_while_unexpired_or_its_tokens_live(alice_client, standard):
    body = tokens_for(alice_client, approve(alice_client, pushed_request_uri(alice_client, [MONEY_TRANSFER])))
    pk = AuthorizationGrant.objects.get().pk
    assert states(alice_client) == [(pk, "active")]
    AuthorizationGrant.objects.update(expires=timezone.now() - timedelta(seconds=1))
    assert states(alice_client) == [(pk, "active")]  # expired, but its refresh token still works
    RefreshToken.objects.get().revoke()
    assert states(alice_client) == [(pk, "expired")]
    assert refresh(alice_client, body["refresh_token"]).json()["error"] == "invalid_grant"


def test_admin_filters_by_user_shows_grants_and_revokes_in_bulk(alice_client, django_user_model):
    from django.urls import reverse

    alice_tokens = tokens_for(
        alice_client, approve(alice_client, pushed_request_uri(alice_client, [MONEY_TRANSFER]))
    )
    bob_user = django_user_model.objects.create_user("bob", password="bob-password-1")
    bob = Client()
    bob.force_login(bob_user)
    tokens_for(bob, approve(bob, pushed_request_uri(bob, [MONEY_TRANSFER])))
    staff = Client()
    staff.force_login(django_user_model.objects.get(username="admin"))
    changelist = reverse("admin:rar_provider_authorizationgrant_changelist")
    only_bob = staff.get(changelist, {"user__id__exact": bob_user.pk})
    assert [c.user.username for c in only_bob.context["cl"].result_list] == ["bob"]
    alices = AuthorizationGrant.objects.get(user__username="alice")
    detail = staff.get(
        reverse("admin:rar_provider_authorizationgrant_change", args=[alices.pk])
    ).content.decode()
    assert "Access tokens issued under this grant" in detail
    assert "Refresh tokens issued under this grant" in detail
    assert alices.grant_id in detail and "Redeemed" in detail
    assert alice_tokens["access_token"] not in detail and alice_tokens["refresh_token"] not in detail
    response = staff.post(changelist, {"action": "revoke_selected", "_selected_action": [alices.pk]})
    assert response.status_code == 302
    assert AuthorizationGrant.objects.get(user__username="alice").revoked is not None
    assert AuthorizationGrant.objects.get(user__username="bob").revoked is None
    assert list(AccessToken.objects.values_list("user__username", flat=True)) == ["bob"]
    revoked_filter = staff.get(changelist, {"status": "revoked"})
    assert [c.user.username for c in revoked_filter.context["cl"].result_list] == ["alice"]
    revoked_filter = staff.get(changelist, {"state__exact": "revoked"})
    assert [c.user.username for c in revoked_filter.context["cl"].result_list] == ["alice"]
