"""`make serve` (scripts/serve): gunicorn, DEBUG off, WhiteNoise, settings from the environment;
/healthz and /readyz as a load balancer sees them (issue 11, points 3 and 7)."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest

from .conftest import REDIRECT_URI
from .serving import ROOT, as_json, free_port, start, stop

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def served(tmp_path):
    server = start(tmp_path)
    yield server
    stop(server)


#: Served from a temporary SQLite file whatever the suite's database: run once, in the SQLite pass.
pytestmark = pytest.mark.sqlite_file


def test_make_serve_runs_scripts_serve():
    """The test below starts exactly what `make serve` runs."""
    makefile = (ROOT / "Makefile").read_text()
    recipe = re.search(r"^serve:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert recipe is not None and recipe.group(1).strip() == "scripts/serve"
    script = (ROOT / "scripts" / "serve").read_text()
    assert "export DEBUG=False" in script and "gunicorn" in script and "collectstatic" in script


def test_serves_pages_static_files_metadata_and_a_push_with_debug_off(served):
    status, headers, body = served.get("/")
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert headers["server"].startswith("gunicorn")

    # A static file, under its hashed name (manifest storage: DEBUG is off), cached for a year.
    status, _, body = served.get("/admin/login/")
    assert status == 200
    stylesheet = re.search(rb'href="(/static/admin/css/base\.[0-9a-f]{12}\.css)"', body)
    assert stylesheet is not None, body[:2000]
    status, headers, css = served.get(stylesheet.group(1).decode())
    assert status == 200 and headers["content-type"].startswith("text/css") and b"body" in css
    assert "immutable" in headers["cache-control"] and "max-age=315360000" in headers["cache-control"]

    # The metadata names the issuer from the environment.
    status, _, body = served.get("/.well-known/oauth-authorization-server")
    metadata = as_json(body)
    assert status == 200 and metadata["issuer"] == served.url
    assert metadata["pushed_authorization_request_endpoint"] == f"{served.url}/oauth/par"

    # DEBUG is off: an unknown URL is a plain 404, not Django's debug page.
    status, _, body = served.get("/no-such-page")
    assert status == 404 and b"URLconf" not in body and b"Traceback" not in body

    # The database and the JWT signing keys from the environment work: a real push.
    data = urlencode(
        {
            "client_id": "demo-client",
            "client_secret": "demo-secret",
            "response_type": "code",
            "redirect_uri": REDIRECT_URI,
            "authorization_details": '[{"type": "account_information", "actions": ["read_balances"], '
            '"locations": ["https://example.com/accounts"]}]',
        }
    ).encode()
    status, _, body = served.post("/oauth/par", data, FORM)
    assert status == 201, body
    assert as_json(body)["request_uri"].startswith("urn:ietf:params:oauth:request_uri:")

    # Health and metrics; the access log names paths, never a query.
    assert served.get("/healthz")[0] == 200
    status, _, body = served.get("/readyz")
    assert status == 200 and as_json(body)["checks"] == {"database:default": "ok", "cache:default": "ok"}
    status, _, body = served.get("/metrics")
    assert status == 200
    latency = (
        b'django_http_requests_latency_seconds_by_view_method_count{method="POST",view="rar_provider:par"}'
    )
    assert latency in body
    assert b"rar_provider_events_total" in body
    assert served.get("/metrics", {"X-Forwarded-For": "203.0.113.9"})[0] == 403
    assert '"POST /oauth/par HTTP/1.1" 201' in served.log()
    assert "request_uri" not in served.log() and "client_secret" not in served.log()


def test_readiness_fails_when_the_database_is_unreachable(tmp_path):
    """Nothing listens on the database port: liveness holds, readiness answers 503 naming the database."""
    closed = free_port()
    server = start(tmp_path, DATABASE_URL=f"postgres://postgres@127.0.0.1:{closed}/nowhere")
    try:
        assert server.get("/healthz")[0] == 200
        status, headers, body = server.get("/readyz")
        assert status == 503, body
        assert as_json(body) == {
            "status": "unavailable",
            "checks": {"database:default": "unreachable", "cache:default": "ok"},
        }
        assert "no-cache" in headers["cache-control"] or "max-age=0" in headers["cache-control"]
    finally:
        stop(server)
