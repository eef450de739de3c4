"""Limits: per-client request rates on PAR and token (429 JSON + Retry-After), counted in the
cache and so across processes sharing Redis; login and step-up lockout (django-axes)."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.core.cache import caches
from django.test import override_settings

from demo_site.hooks import STEP_UP_SESSION_KEY

from .conftest import CONFIDENTIAL, PAR_URL, TOKEN_URL, basic, pkce_pair, post_form, push, request_params
from .serving import as_json, start, stop

pytestmark = pytest.mark.django_db

#: The Redis database these tests may use (CI and every developer machine run Redis on 6379).
REDIS_URL = "redis://127.0.0.1:6379/3"
REDIS_CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}


def limits(**rates):
    return override_settings(RAR_PROVIDER={**settings.RAR_PROVIDER, "RATE_LIMITS": rates})


def assert_rate_limited(response, endpoint: str, period: int) -> None:
    assert response.status_code == 429, response.content
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert body["error"] == "too_many_requests"
    assert f"Too many requests to the {endpoint} endpoint" in body["error_description"]
    assert 1 <= int(response["Retry-After"]) <= period


# -- per-client rates ----------------------------------------------------------------------------


def test_par_burst_over_the_limit_answers_429_json_with_retry_after(client):
    with limits(par="3/1h"):
        assert [push(client).status_code for _ in range(3)] == [201, 201, 201]
        assert_rate_limited(push(client), "par", 3600)
        # Counted before authentication: a wrong secret is refused as over the limit too.
        assert_rate_limited(push(client, auth=basic("demo-client", "wrong")), "par", 3600)
        # Per client: another client has its own budget.
        _verifier, challenge = pkce_pair()
        public = request_params(
            client_id="demo-public", code_challenge=challenge, code_challenge_method="S256"
        )
        other = post_form(client, PAR_URL, public)
        assert other.status_code == 201, other.content


def test_token_burst_over_the_limit_answers_429_json_with_retry_after(client):
    data = {"grant_type": "authorization_code", "code": "no-such-code", "redirect_uri": "x"}
    with limits(token="2/1h"):
        assert [post_form(client, TOKEN_URL, data, **CONFIDENTIAL).status_code for _ in range(2)] == [
            400,
            400,
        ]
        assert_rate_limited(post_form(client, TOKEN_URL, data, **CONFIDENTIAL), "token", 3600)
        # A public client names itself in the body: counted under its client_id.
        public = {**data, "client_id": "demo-public"}
        assert [post_form(client, TOKEN_URL, public).status_code for _ in range(2)] == [400, 400]
        assert_rate_limited(post_form(client, TOKEN_URL, public), "token", 3600)


def test_a_missing_or_none_rate_does_not_limit(client):
    with limits(par=None):
        assert {push(client).status_code for _ in range(5)} == {201}


def test_a_cache_that_cannot_be_reached_lets_requests_through(client, caplog):
    """Fail open (and log an error): a cache outage must not refuse every client."""
    unreachable = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    with limits(par="1/1h"), override_settings(CACHES=unreachable):
        assert [push(client).status_code for _ in range(2)] == [201, 201]
    assert any("Rate limit of par not checked" in r.getMessage() for r in caplog.records)


@pytest.fixture
def redis_db3():
    """Django's Redis cache on database 3, emptied before and after."""
    with override_settings(CACHES=REDIS_CACHES):
        caches["default"].clear()
        yield caches["default"]
        caches["default"].clear()


@pytest.mark.sqlite_file  # the second process serves a temporary SQLite file: SQLite pass only
def test_the_limit_counts_across_two_processes_sharing_redis(client, redis_db3, tmp_path):
    """`make serve` (two gunicorn workers) and this process share one budget in Redis."""
    server = start(tmp_path, CACHE_URL=REDIS_URL, RAR_RATE_LIMIT_PAR="5/30d")
    try:
        form = {
            "Content-Type": "application/x-www-form-urlencoded",
            **{"Authorization": CONFIDENTIAL["HTTP_AUTHORIZATION"]},
        }
        body = urlencode(request_params()).encode()
        served = [server.post("/oauth/par", body, form)[0] for _ in range(3)]
        assert served == [201, 201, 201]
        with limits(par="5/30d"):
            assert [push(client).status_code for _ in range(2)] == [201, 201]
            assert_rate_limited(push(client), "par", 30 * 86400)
        status, headers, answer = server.post("/oauth/par", body, form)
        assert status == 429 and as_json(answer)["error"] == "too_many_requests"
        assert int(headers["retry-after"]) >= 1
    finally:
        stop(server)


# -- password guessing: login and step-up (django-axes) ---------------------------------------------


def test_wrong_passwords_lock_out_the_login(client):
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        response = client.post("/accounts/login/", {"username": "alice", "password": "guess"})
        assert response.status_code == 200 and "didn't match" in response.content.decode()
    locked = client.post("/accounts/login/", {"username": "alice", "password": "guess"})
    assert locked.status_code == 429
    assert "Too many wrong passwords" in locked.content.decode()
    assert "Try again in 15 minutes." in locked.content.decode()
    # Locked: even the right password does not log in now.
    right = client.post("/accounts/login/", {"username": "alice", "password": "wonderland-42"})
    assert right.status_code == 429 and "_auth_user_id" not in client.session


def test_wrong_passwords_lock_out_the_step_up_page(alice_client):
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        wrong = alice_client.post("/demo/step-up/", {"password": "guess", "next": "/"})
        assert wrong.status_code == 400 and "That password is not right" in wrong.content.decode()
    locked = alice_client.post("/demo/step-up/", {"password": "guess", "next": "/"})
    assert locked.status_code == 429 and "Too many wrong passwords" in locked.content.decode()
    right = alice_client.post("/demo/step-up/", {"password": "wonderland-42", "next": "/"})
    assert right.status_code == 429
    assert STEP_UP_SESSION_KEY not in alice_client.session


def test_a_right_password_before_the_limit_resets_the_count(alice_client):
    limit = settings.AXES_FAILURE_LIMIT
    for _ in range(limit - 1):
        alice_client.post("/demo/step-up/", {"password": "guess", "next": "/"})
    assert alice_client.post("/demo/step-up/", {"password": "wonderland-42", "next": "/"}).status_code == 302
    for _ in range(limit - 1):
        assert alice_client.post("/demo/step-up/", {"password": "guess", "next": "/"}).status_code == 400


@pytest.mark.sqlite_file  # the second process serves a temporary SQLite file: SQLite pass only
def test_lockout_counts_across_two_processes_sharing_redis(client, redis_db3, tmp_path):
    """Wrong passwords at `make serve`'s gunicorn and in this process add up in Redis."""
    import re
    from http.cookiejar import CookieJar
    from urllib.error import HTTPError
    from urllib.request import HTTPCookieProcessor, Request, build_opener

    from axes.handlers.proxy import AxesProxyHandler

    server = start(tmp_path, CACHE_URL=REDIS_URL, AXES_FAILURE_LIMIT="4")
    browser = build_opener(HTTPCookieProcessor(CookieJar()))

    def served_login(password: str) -> int:
        page = browser.open(server.url + "/accounts/login/", timeout=30).read()
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1).decode()
        form = urlencode({"username": "alice", "password": password, "csrfmiddlewaretoken": token}).encode()
        try:
            return browser.open(Request(server.url + "/accounts/login/", data=form), timeout=30).status
        except HTTPError as error:
            return error.code

    AxesProxyHandler.implementation = None  # axes keeps its handler (and its cache) once made
    try:
        with override_settings(AXES_FAILURE_LIMIT=4):
            assert [served_login("guess") for _ in range(2)] == [200, 200]
            assert (
                client.post("/accounts/login/", {"username": "alice", "password": "guess"}).status_code == 200
            )
            locked = client.post("/accounts/login/", {"username": "alice", "password": "guess"})
            assert locked.status_code == 429 and "Too many wrong passwords" in locked.content.decode()
            assert served_login("wonderland-42") == 429
    finally:
        AxesProxyHandler.implementation = None
        stop(server)
