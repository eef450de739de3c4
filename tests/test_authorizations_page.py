""" "Your authorizations" at scale (issue 8, example 10): paginated, newest first, filtered by state,
one-time consents shown as used, a distinct accessible name on every Revoke button, and a query
count that does not grow with the number of consents."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application, RefreshToken

from rar_provider.models import AuthorizationGrant, ResourceServer
from rar_provider.views.authorizations import PAGE_SIZE

from .conftest import (
    CONFIDENTIAL,
    MONEY_TRANSFER,
    approve,
    exchange,
    post_form,
    pushed_request_uri,
    redirect_params,
)

pytestmark = pytest.mark.django_db

URL = "/oauth/authorizations/"
ACCOUNT_INFORMATION = {"type": "account_information", "actions": ["list_accounts"]}


def make_consents(user, count: int, **fields) -> list[AuthorizationGrant]:
    """``count`` consents of alice for the demo client and API, one minute apart, oldest first."""
    api = ResourceServer.objects.get(identifier="urn:demo:payments")
    client = Application.objects.get(client_id="demo-client")
    start = timezone.now() - timedelta(minutes=count)
    made = []
    for number in range(count):
        details = [MONEY_TRANSFER] if number % 2 else [ACCOUNT_INFORMATION]
        consent = AuthorizationGrant(
            user=user,
            application=client,
            resource_server=api,
            authorization_details=details,
            expires=timezone.now() + timedelta(days=1),
            **{"reusable": True, "state": "approved", **fields},
        )
        consent.save()
        made.append(consent)
    # created is auto_now_add: spread the rows in time afterwards, oldest first.
    for number, consent in enumerate(made):
        AuthorizationGrant.objects.filter(pk=consent.pk).update(created=start + timedelta(minutes=number))
    return made


def revoke_names(html: str) -> list[str]:
    """The accessible name of each Revoke button (its text, hidden span included)."""
    names = re.findall(r'<button type="submit" class="danger">(.*?)</button>', html, re.S)
    return [" ".join(unescape(re.sub(r"<[^>]+>", "", name)).split()) for name in names]


def test_paginated_newest_first(alice_client, alice):
    made = make_consents(alice, PAGE_SIZE + 5)
    first = alice_client.get(URL)
    shown = [e.grant.pk for e in first.context["entries"]]
    assert shown == [c.pk for c in reversed(made)][:PAGE_SIZE]
    html = first.content.decode()
    assert "Page 1 of 2" in html and 'rel="next"' in html and 'rel="prev"' not in html
    second = alice_client.get(URL, {"page": 2})
    assert [e.grant.pk for e in second.context["entries"]] == [c.pk for c in reversed(made)][PAGE_SIZE:]
    assert 'rel="prev"' in second.content.decode()
    assert alice_client.get(URL, {"page": "999"}).context["page_obj"].number == 2  # past the end: the last


def test_filters_by_state(alice_client, alice):
    active, revoked, expired = make_consents(alice, 3)
    used = make_consents(alice, 1, reusable=False, used=timezone.now())[0]
    AuthorizationGrant.objects.filter(pk=revoked.pk).update(revoked=timezone.now())
    AuthorizationGrant.objects.filter(pk=expired.pk).update(expires=timezone.now() - timedelta(seconds=1))

    def shown(state):
        return [(e.grant.pk, e.state) for e in alice_client.get(URL, {"state": state}).context["entries"]]

    assert shown("active") == [(active.pk, "active")]
    assert shown("used") == [(used.pk, "used")]
    assert shown("revoked") == [(revoked.pk, "revoked")]
    assert shown("expired") == [(expired.pk, "expired")]
    assert {pk for pk, _ in shown("")} == {active.pk, revoked.pk, expired.pk, used.pk}
    assert len(shown("nonsense")) == 4  # an unknown filter shows everything
    page = alice_client.get(URL, {"state": "used"}).content.decode()
    assert 'aria-current="page">Used</a>' in page
    assert alice_client.get(URL, {"state": "used"}).context["page_obj"].paginator.count == 1


def test_filter_links_keep_the_state_across_pages(alice_client, alice):
    make_consents(alice, PAGE_SIZE + 1)
    html = alice_client.get(URL, {"state": "active"}).content.decode()
    assert 'href="?state=active&amp;page=2"' in html


def test_a_used_one_time_payment_is_not_revocable_in_plain_words(alice_client):
    """Through the real flow: the transactional demo API's consent, once its code is exchanged."""
    code = redirect_params(approve(alice_client, pushed_request_uri(alice_client, [MONEY_TRANSFER])))["code"]
    assert revoke_names(alice_client.get(URL).content.decode())  # not used yet: it can be revoked
    tokens = exchange(alice_client, code).json()
    page = alice_client.get(URL)
    assert [e.state for e in page.context["entries"]] == ["used"]
    # While its refresh token lives, it can still be revoked, and the page says why.
    assert len(revoke_names(page.content.decode())) == 1
    assert "still holds a token issued under it" in page.content.decode()
    ok = post_form(
        alice_client,
        "/oauth/token",
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        **CONFIDENTIAL,
    )
    assert ok.status_code == 200  # it really can be used: the reason Revoke is offered
    RefreshToken.objects.update(revoked=timezone.now())
    AccessToken.objects.update(expires=timezone.now())
    html = alice_client.get(URL).content.decode()
    assert revoke_names(html) == []
    assert "Used once, on" in html and "It cannot be used again." in html


def test_each_revoke_button_says_which_authorization_it_ends(alice_client, alice):
    made = make_consents(alice, 4)  # same client, same API, two with the same type
    names = revoke_names(alice_client.get(URL).content.decode())
    assert len(names) == 4 and len(set(names)) == 4
    newest = made[-1]
    assert names[0].startswith(
        f"Revoke authorization {newest.pk}: Demo Bank App, Payments API, Money transfer"
    )
    assert f"Reference {newest.pk}" in alice_client.get(URL).content.decode()  # the number is visible too


@pytest.mark.parametrize("count", [5, 200])
def test_query_count_does_not_grow_with_the_number_of_consents(
    alice_client, alice, count, django_assert_max_num_queries
):
    make_consents(alice, count)
    alice_client.get(URL)  # warm the session and the template caches
    with django_assert_max_num_queries(8):
        response = alice_client.get(URL)
    assert len(response.context["entries"]) == min(count, PAGE_SIZE)
    with django_assert_max_num_queries(8):
        alice_client.get(URL, {"state": "active", "page": 2})
