"""Issue 8, example 2: DOT's own authorization view routed beside ours must not grant details unseen.

``tests.urls_with_dot`` routes ``oauth2_provider.urls`` at ``/o/`` next to the demo's URLs, as most
existing DOT sites do. DOT's ``AuthorizationView`` shows scopes only; the server classes refuse it
any request carrying ``authorization_details`` (or a ``request_uri``), and ``check`` reports the route.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlparse

import pytest
from django.core import checks
from django.test import override_settings
from oauth2_provider.models import get_access_token_model, get_grant_model

from rar_provider.checks import check_dot_authorization_view

from .conftest import MONEY_TRANSFER, REDIRECT_URI, pkce_pair

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.urls_with_dot")]

WIDGETS = [{"type": "widget_order", "quantity": 9}]
DOT_AUTHORIZE = "/o/authorize/"
REFUSED = "authorization_details needs rar_provider's authorization endpoint"


def dot_query(details, **extra) -> dict:
    _verifier, challenge = pkce_pair()
    query = {
        "client_id": "demo-client",
        "response_type": "code",
        "redirect_uri": REDIRECT_URI,
        "state": "dot-1",
        "scope": "profile",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }
    if details is not None:
        query["authorization_details"] = json.dumps(details)
    return query


def error_of(response) -> dict[str, str]:
    assert response.status_code == 302, (response.status_code, response.content[:300])
    location = response["Location"]
    assert location.startswith(REDIRECT_URI), location
    return {k: v[0] for k, v in parse_qs(urlparse(location).query).items()}


@pytest.mark.parametrize("details", [WIDGETS, [MONEY_TRANSFER]])
def test_dot_authorization_view_refuses_authorization_details(alice_client, details):
    """The page that showed only "Reading scope" is now an invalid_request redirect: nothing to approve."""
    response = alice_client.get(DOT_AUTHORIZE, dot_query(details))
    params = error_of(response)
    assert params["error"] == "invalid_request"
    assert REFUSED in params["error_description"]
    assert params["state"] == "dot-1"


def test_dot_authorization_view_approval_issues_no_code(alice_client):
    """Posting DOT's consent form (as the page would have) issues no code and so no token."""
    query = dot_query(WIDGETS)
    form = {
        "client_id": query["client_id"],
        "redirect_uri": query["redirect_uri"],
        "response_type": "code",
        "state": "dot-1",
        "scope": "profile",
        "code_challenge": query["code_challenge"],
        "code_challenge_method": "S256",
        "allow": "Authorize",
    }
    # DOT's form has no authorization_details field; the query string still carries it to oauthlib.
    response = alice_client.post(f"{DOT_AUTHORIZE}?{_encode(query)}", form)
    params = error_of(response)
    assert params["error"] == "invalid_request"
    assert "code" not in params
    assert get_grant_model().objects.count() == 0
    assert get_access_token_model().objects.count() == 0


def test_dot_authorization_view_refuses_a_request_uri(alice_client):
    query = dot_query(None, request_uri="urn:ietf:params:oauth:request_uri:abc")
    params = error_of(alice_client.get(DOT_AUTHORIZE, query))
    assert params["error"] == "invalid_request"
    assert "request_uri needs rar_provider's authorization endpoint" in params["error_description"]


def test_our_authorization_endpoint_still_shows_the_details(alice_client):
    """The refusal is about DOT's view only: ours, on the same site, shows the consent page."""
    query = dot_query([MONEY_TRANSFER])
    del query["scope"]
    response = alice_client.get("/oauth/authorize", query)
    assert response.status_code == 200
    assert response.context["details"]


def test_check_reports_dot_urls_routed_beside_ours():
    (error,) = check_dot_authorization_view()
    assert error.id == "rar_provider.E011"
    assert error.level == checks.ERROR
    assert "'o/authorize/'" in error.msg
    assert "oauth2_provider.urls" in error.hint
    assert "rar_provider.E011" in [m.id for m in checks.run_checks()]


def test_check_is_silent_without_dot_urls():
    with override_settings(ROOT_URLCONF="demo_site.urls"):
        assert check_dot_authorization_view() == []


def _encode(query: dict) -> str:
    from urllib.parse import urlencode

    return urlencode(query)


# -- any other caller of the server classes ---------------------------------------------------------------


def _uri(details) -> str:
    from urllib.parse import urlencode

    return "/anywhere?" + urlencode(dot_query(details))


def test_server_validate_without_our_endpoint_mark_is_refused():
    """Code calling the configured server directly (no ``pushed``, oauthlib's signature) gets no details."""
    from oauthlib.oauth2.rfc6749.errors import InvalidRequestError

    from rar_provider.views.oauth import get_server

    with pytest.raises(InvalidRequestError, match="authorization_details needs rar_provider"):
        get_server().validate_authorization_request(_uri(WIDGETS))
    scopes, credentials = get_server().validate_authorization_request(_uri(None))
    assert scopes == ["profile"] and "authorization_details" not in credentials["request"]._params


def test_server_create_without_our_endpoint_mark_issues_no_code(alice):
    from rar_provider.views.oauth import get_server

    headers, _body, status = get_server().create_authorization_response(
        uri=_uri([MONEY_TRANSFER]), scopes=["profile"], credentials={"user": alice}
    )
    assert status == 302
    params = {k: v[0] for k, v in parse_qs(urlparse(headers["Location"]).query).items()}
    assert params["error"] == "invalid_request" and "code" not in params
    assert get_grant_model().objects.count() == 0


def test_a_client_parameter_cannot_forge_our_mark():
    """``rar_pushed`` sent as a request parameter is a parameter, not our mark (``trusted`` reads vars)."""
    from oauthlib.oauth2.rfc6749.errors import InvalidRequestError

    from rar_provider.views.oauth import get_server

    with pytest.raises(InvalidRequestError, match="authorization_details needs rar_provider"):
        get_server().validate_authorization_request(_uri(WIDGETS) + "&rar_pushed=1")
