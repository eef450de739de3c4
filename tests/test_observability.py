"""Metrics (rar_provider.metrics, django-prometheus), /metrics access, /healthz and /readyz
in-process (the served ones, and readiness without a database: tests/test_serve.py)."""

from __future__ import annotations

import pytest
from django.test import override_settings
from django.urls import reverse
from prometheus_client import REGISTRY

from .conftest import AUTHORIZE_URL, CONFIDENTIAL, TOKEN_URL, post_form, push

pytestmark = pytest.mark.django_db


def errors(endpoint: str, error: str) -> float:
    return (
        REGISTRY.get_sample_value("rar_provider_oauth_errors_total", {"endpoint": endpoint, "error": error})
        or 0
    )


def requests_of(view: str, method: str) -> float:
    return (
        REGISTRY.get_sample_value(
            "django_http_requests_latency_seconds_by_view_method_count", {"view": view, "method": method}
        )
        or 0
    )


def test_oauth_errors_are_counted_per_endpoint_and_code(client):
    before = errors("par", "invalid_authorization_details"), errors("token", "invalid_grant")
    assert push(client, [{"type": "no_such_type"}]).status_code == 400
    data = {"grant_type": "authorization_code", "code": "nope", "redirect_uri": "x"}
    assert post_form(client, TOKEN_URL, data, **CONFIDENTIAL).status_code == 400
    assert errors("par", "invalid_authorization_details") == before[0] + 1
    assert errors("token", "invalid_grant") == before[1] + 1


def test_authorize_errors_are_counted_from_redirects_and_pages(alice_client):
    redirected, page = (
        errors("authorize", "unsupported_response_type"),
        errors("authorize", "invalid_request_uri"),
    )
    query = {
        "client_id": "demo-client",
        "response_type": "token",
        "redirect_uri": "http://127.0.0.1:8000/demo/callback/",
    }
    response = alice_client.get(AUTHORIZE_URL, query)
    assert response.status_code == 302 and "error=unsupported_response_type" in response["Location"]
    response = alice_client.get(
        AUTHORIZE_URL, {"client_id": "demo-client", "request_uri": "urn:ietf:params:oauth:request_uri:x"}
    )
    assert response.status_code == 400
    assert errors("authorize", "unsupported_response_type") == redirected + 1
    assert errors("authorize", "invalid_request_uri") == page + 1


def test_requests_and_latency_per_endpoint(client):
    before = requests_of("rar_provider:par", "POST")
    assert push(client).status_code == 201
    assert requests_of("rar_provider:par", "POST") == before + 1


def test_rate_limited_answers_are_counted(client, settings):
    settings.RAR_PROVIDER = {**settings.RAR_PROVIDER, "RATE_LIMITS": {"par": "1/1h"}}
    before = errors("par", "too_many_requests")
    push(client)
    assert push(client).status_code == 429
    assert errors("par", "too_many_requests") == before + 1


def test_metrics_are_served_to_loopback_callers_only(client):
    url = reverse("rar_provider_ops:metrics")
    assert url == "/metrics"
    response = client.get(url, REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    assert (
        b"rar_provider_oauth_errors_total" in response.content
        or b"rar_provider_events_total" in response.content
    )
    assert client.get(url, REMOTE_ADDR="::1").status_code == 200
    assert client.get(url, REMOTE_ADDR="10.1.2.3").status_code == 403
    # A reverse proxy on the same host connects from loopback too: a forwarded request is outside.
    assert client.get(url, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 403
    assert client.get(url, REMOTE_ADDR="127.0.0.1", HTTP_FORWARDED="for=203.0.113.9").status_code == 403


def test_metrics_token_opens_metrics_to_a_remote_scraper(client, settings):
    settings.RAR_PROVIDER = {**settings.RAR_PROVIDER, "METRICS_TOKEN": "s3cret-scraper-token"}
    remote = {"REMOTE_ADDR": "10.1.2.3", "HTTP_X_FORWARDED_FOR": "10.9.9.9"}
    assert (
        client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-scraper-token", **remote).status_code == 200
    )
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong", **remote).status_code == 403
    assert client.get("/metrics", **remote).status_code == 403


def test_healthz_and_readyz(client):
    live = client.get("/healthz")
    assert live.status_code == 200 and live.json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "checks": {"database:default": "ok", "cache:default": "ok"}}
    assert "no-cache" in ready["Cache-Control"]


def test_readyz_fails_when_the_cache_is_unreachable(client):
    unreachable = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    with override_settings(CACHES=unreachable):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database:default": "ok", "cache:default": "unreachable"}
