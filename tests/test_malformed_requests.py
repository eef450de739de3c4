"""The malformed-request battery (issue 9, kind 2): whatever a client sends to a back-channel endpoint —
method, content type, charset, encoding, body size, repeated parameters, NUL, broken credentials — the
answer is an RFC 6749 §5.2 JSON error with the right status and ``Cache-Control: no-store``, a 401
carries a challenge of the scheme the client used, and nothing is stored. Never HTML, empty or 500.
"""

from __future__ import annotations

import base64

import pytest
from oauth2_provider.models import AccessToken, Grant

from rar_provider.models import AuthorizationGrant, PushedAuthorizationRequest

from .conftest import CONFIDENTIAL, FORM, PAR_URL, TOKEN_URL
from .strict_helpers import INTROSPECT_URL, REVOKE_URL, SERVICE, assert_oauth_json_error

pytestmark = pytest.mark.django_db

#: A valid body for each endpoint, so that each case breaks exactly one thing.
VALID = {
    PAR_URL: b"client_id=demo-client&response_type=code&redirect_uri=http%3A%2F%2F127.0.0.1%3A8000%2Fdemo"
    b"%2Fcallback%2F&state=s",
    TOKEN_URL: b"grant_type=client_credentials",
    INTROSPECT_URL: b"token=unknown",
    REVOKE_URL: b"token=unknown",
}
AUTH = {PAR_URL: CONFIDENTIAL, TOKEN_URL: SERVICE, INTROSPECT_URL: SERVICE, REVOKE_URL: CONFIDENTIAL}
ENDPOINTS = list(VALID)


def _basic_raw(raw: bytes) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(raw).decode()}


#: (case id, how to change the request, expected status, expected error or None for "any")
CASES = [
    (
        "json-body",
        {"content_type": "application/json", "body": b'{"grant_type": "client_credentials"}'},
        400,
        "invalid_request",
    ),
    ("text-plain", {"content_type": "text/plain"}, 400, "invalid_request"),
    (
        "multipart",
        {"content_type": "multipart/form-data; boundary=x", "body": b"--x--"},
        400,
        "invalid_request",
    ),
    ("no-content-type", {"content_type": ""}, 400, "invalid_request"),
    ("charset-latin1", {"content_type": f"{FORM}; charset=ISO-8859-1"}, 400, "invalid_request"),
    ("charset-utf16", {"content_type": f"{FORM}; charset=utf-16"}, 400, "invalid_request"),
    ("charset-single-quoted", {"content_type": f"{FORM}; charset='utf-8'"}, 400, "invalid_request"),
    ("charset-unknown", {"content_type": f"{FORM}; charset=klingon"}, 400, "invalid_request"),
    ("gzip", {"headers": {"HTTP_CONTENT_ENCODING": "gzip"}}, 400, "invalid_request"),
    ("bad-escape", {"append": b"&state=%zz"}, 400, "invalid_request"),
    ("not-utf8-escape", {"append": b"&x=%ff%fe"}, 400, "invalid_request"),
    ("not-utf8-raw", {"append": b"&x=\xff\xfe"}, 400, "invalid_request"),
    ("overlong-utf8", {"append": b"&x=%c0%ae"}, 400, "invalid_request"),
    ("surrogate-utf8", {"append": b"&x=%ed%a0%80"}, 400, "invalid_request"),
    ("nul-value", {"append": b"&x=a%00b"}, 400, "invalid_request"),
    ("nul-name", {"append": b"&a%00=1"}, 400, "invalid_request"),
    ("too-many-fields", {"append": b"".join(b"&f%d=1" % i for i in range(1001))}, 400, "invalid_request"),
    ("too-large", {"append": b"&pad=" + b"a" * 70_000}, 413, "invalid_request"),
    ("content-length-lies", {"headers": {"CONTENT_LENGTH": "99999999"}}, 413, "invalid_request"),
    ("content-length-garbage", {"headers": {"CONTENT_LENGTH": "ten"}}, 400, "invalid_request"),
    (
        "repeated-client-id",
        {"append": b"&client_id=demo-client&client_id=demo-client"},
        400,
        "invalid_request",
    ),
    ("basic-not-base64", {"auth": {"HTTP_AUTHORIZATION": "Basic !!!"}}, 401, "invalid_client"),
    ("basic-no-colon", {"auth": _basic_raw(b"demo-client")}, 401, "invalid_client"),
    ("basic-not-utf8", {"auth": _basic_raw(b"\xff:\xfe")}, 401, "invalid_client"),
    ("basic-nul", {"auth": _basic_raw(b"demo-client%00:x")}, 401, "invalid_client"),
    ("basic-wrong-secret", {"auth": _basic_raw(b"demo-client:nope")}, 401, "invalid_client"),
    ("no-authentication", {"auth": {}}, None, None),
    ("bearer-garbage", {"auth": {"HTTP_AUTHORIZATION": "Bearer \x7f"}}, None, None),
    ("unknown-scheme", {"auth": {"HTTP_AUTHORIZATION": "Digest x"}}, None, None),
    ("empty-body", {"body": b""}, 400, None),
]


def send(client, url: str, change: dict):
    body = change.get("body", VALID[url] + change.get("append", b""))
    content_type = change.get("content_type", FORM)
    auth = change.get("auth", AUTH[url])
    return client.generic("POST", url, body, content_type=content_type, **auth, **change.get("headers", {}))


@pytest.fixture(params=[True, False], ids=["debug", "no-debug"])
def debug(request, settings):
    settings.DEBUG = request.param


def assert_nothing_stored():
    assert not PushedAuthorizationRequest.objects.exists()
    assert not Grant.objects.exists()
    assert not AccessToken.objects.exists()
    assert not AuthorizationGrant.objects.given().exists()


@pytest.mark.parametrize("url", ENDPOINTS)
@pytest.mark.parametrize("case, change, status, error", CASES, ids=[case[0] for case in CASES])
def test_malformed_request_gets_a_json_error(client, debug, url, case, change, status, error):
    response = send(client, url, change)
    assert response.status_code != 500, response.content
    if status is None:  # depends on the endpoint (e.g. a public client may send no secret): any 4xx
        assert 400 <= response.status_code < 500, response.content
        assert_oauth_json_error(response, response.status_code)
    else:
        assert_oauth_json_error(response, status, error)
    if response.status_code == 401 and change.get("auth", {}).get("HTTP_AUTHORIZATION", "").startswith(
        "Bearer"
    ):
        assert response["WWW-Authenticate"].startswith("Bearer ")
    assert_nothing_stored()


@pytest.mark.parametrize("url", ENDPOINTS)
@pytest.mark.parametrize("method", ["get", "put", "patch", "delete", "options", "trace"])
def test_methods_other_than_post_are_405_json(client, url, method):
    response = getattr(client, method)(url)
    body = assert_oauth_json_error(response, 405, "invalid_request", mentions="POST")
    assert response["Allow"] == "POST"
    assert method.upper() in body["error_description"]


@pytest.mark.parametrize("url", ENDPOINTS)
def test_head_is_405_without_a_body(client, url):
    response = client.head(url)
    assert response.status_code == 405
    assert response["Content-Type"].startswith("application/json")
    assert response["Cache-Control"] == "no-store"


@pytest.mark.parametrize("url", ENDPOINTS)
def test_the_valid_body_of_the_battery_is_accepted(client, url):
    """The battery's baseline is a good request, so each case fails for the one thing it breaks."""
    response = send(client, url, {})
    assert response.status_code in (200, 201), response.content
