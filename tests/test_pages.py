"""URL names, templates and the demo site's pages (home, login, the demo client's callback)."""

from __future__ import annotations

import re
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from django.contrib.auth.models import AnonymousUser
from django.template.loader import render_to_string
from django.test import Client, RequestFactory, override_settings
from django.test.signals import template_rendered
from django.urls import resolve, reverse

from demo_site import client as demo_client
from demo_site.views import SESSION_KEY
from rar_provider.consent import build_detail_views
from rar_provider.details import Row
from rar_provider.models import ResourceServer

from .conftest import AUTHORIZE_URL, ISSUER, MONEY_TRANSFER, authorize_query, pushed_request_uri

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_DIRS = [ROOT / "templates", ROOT / "rar_provider" / "templates"]

RAR_URLS = {
    "rar_provider:authorize": "/oauth/authorize",
    "rar_provider:par": "/oauth/par",
    "rar_provider:token": "/oauth/token",
    "rar_provider:revoke": "/oauth/revoke",
    "rar_provider:introspect": "/oauth/introspect",
    "rar_provider:jwks": "/oauth/jwks",
    "rar_provider:server-metadata": "/.well-known/oauth-authorization-server",
    "rar_provider:openid-configuration": "/.well-known/openid-configuration",
    "rar_provider:authorizations": "/oauth/authorizations/",
}
#: URL names that take arguments: name -> (args, path).
RAR_URLS_WITH_ARGS = {"rar_provider:revoke-authorization": ((7,), "/oauth/authorizations/7/revoke")}
DEMO_URLS = {
    "home": "/",
    "demo-start": "/demo/start/",
    "demo-callback": "/demo/callback/",
    "login": "/accounts/login/",
    "logout": "/accounts/logout/",
    "demo-step-up": "/demo/step-up/",
    "demo-fapi-start": "/demo/fapi/start/",
    "demo-fapi-token": "/demo/fapi/token/",
    "demo-fapi-transfer": "/demo/fapi/transfer/",
    "demo-fapi-refresh": "/demo/fapi/refresh/",
}
CALLBACK = "/demo/callback/"


def templates_on_disk() -> set[str]:
    names = set()
    for directory in TEMPLATE_DIRS:
        assert directory.is_dir(), directory
        names |= {p.relative_to(directory).as_posix() for p in directory.rglob("*") if p.is_file()}
    return names


@contextmanager
def recording_templates():
    """The names of every template rendered (extended and included ones too) inside the block."""
    names: set[str] = set()

    def record(sender, template, context, **kwargs):
        if template.name:
            names.add(template.name)

    template_rendered.connect(record)
    try:
        yield names
    finally:
        template_rendered.disconnect(record)


def html_of(response, status: int = 200) -> str:
    assert response.status_code == status, (response.status_code, response.content[:300])
    return response.content.decode()


# -- URL names -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name, path", sorted({**RAR_URLS, **DEMO_URLS}.items()))
def test_url_name_reverses(name, path):
    assert reverse(name) == path
    assert resolve(path).view_name == name


def test_rar_provider_namespace_is_complete():
    from rar_provider import urls

    assert urls.app_name == "rar_provider"
    assert {f"rar_provider:{p.name}" for p in urls.urlpatterns} == set(RAR_URLS) | set(RAR_URLS_WITH_ARGS)


@pytest.mark.parametrize("name", sorted(RAR_URLS_WITH_ARGS))
def test_url_name_with_arguments_reverses(name):
    args, path = RAR_URLS_WITH_ARGS[name]
    assert reverse(name, args=args) == path
    assert resolve(path).view_name == name


# -- pages, each rendered by the view that uses it -------------------------------------------------------


def home_page(client) -> str:
    return html_of(client.get("/"))


def login_page(client) -> str:
    return html_of(client.get("/accounts/login/", {"next": "/oauth/authorize?x=1"}))


def shipped_login_page() -> str:
    """The minimal login page rar_provider ships for host projects (docs/install.md, step 3)."""
    from django.contrib.auth.views import LoginView
    from django.contrib.sessions.middleware import SessionMiddleware
    from django.test import RequestFactory

    request = RequestFactory().get("/accounts/login/", {"next": "/oauth/authorize?x=1"})
    SessionMiddleware(lambda r: None).process_request(request)
    response = LoginView.as_view(template_name="rar_provider/login.html")(request)
    return response.render().content.decode()


def callback_page(client, **params) -> str:
    return html_of(client.get(CALLBACK, params))


def consent_page(alice_client) -> str:
    request_uri = pushed_request_uri(alice_client, [MONEY_TRANSFER])
    return html_of(alice_client.get(AUTHORIZE_URL, authorize_query(request_uri)))


def authorizations_page(alice_client) -> str:
    """With one consent (a full approval), rendered with the same partials as the consent page."""
    from .conftest import approve

    approve(alice_client, pushed_request_uri(alice_client, [MONEY_TRANSFER]))
    return html_of(alice_client.get("/oauth/authorizations/"))


def step_up_page(alice_client) -> str:
    return html_of(alice_client.get("/demo/step-up/", {"next": "/oauth/authorize?x=1"}))


def lockout_page(client) -> str:
    """django-axes' lockout page (demo/lockout.html), after one wrong password with a limit of 1."""
    with override_settings(AXES_FAILURE_LIMIT=1):
        client.post("/accounts/login/", {"username": "alice", "password": "wrong"})
        response = client.post("/accounts/login/", {"username": "alice", "password": "wrong"})
    assert response.status_code == 429, response.status_code
    return response.content.decode()


INSTRUCTION_DETAIL = {
    "type": "urn:auth0:schemas:authorization-details:v1:user-profile",
    "instruction": "An instruction to the user",
    "properties": {
        "stringPropertyForDisplay": {
            "display": True,
            "name": "A String:",
            "display_order": 1,
            "value": "Value 1",
        },
        "hiddenProperty": {"display": False, "value": "This value should not be displayed"},
    },
}


def instruction_partial() -> str:
    view = build_detail_views([INSTRUCTION_DETAIL], {})[0]
    return render_to_string(view.templates, {"item": view, "rows": view.rows})


def fapi_page(client) -> str:
    """The FAPI flow's page (demo/fapi.html) saying to run make demo (the flow: test_demo_fapi.py)."""
    with override_settings(DEMO_FAPI_KEY_FILE="/nonexistent/demo-fapi-key.json"):
        return html_of(client.post("/demo/fapi/start/"), status=503)


def error_page(client) -> str:
    query = {"client_id": "demo-client", "request_uri": "urn:ietf:params:oauth:request_uri:unknown"}
    return html_of(client.get(AUTHORIZE_URL, query), status=400)


def test_home_page(client):
    html = home_page(client)
    assert "Try a money transfer" in html
    forms = re.findall(r"<form\b[^>]*>.*?</form>", html, re.S)
    start_forms = [f for f in forms if 'action="/demo/start/"' in f]
    assert len(start_forms) == 1
    form = start_forms[0]
    assert 'method="post"' in form
    assert 'name="csrfmiddlewaretoken"' in form
    assert "Try a money transfer" in form
    assert ISSUER in html
    assert "Hanna Herwitz" in html  # the sample request
    assert 'href="/accounts/login/"' in html  # anonymous: a login link, no logout form


def test_home_page_logged_in_shows_logout(alice_client):
    html = home_page(alice_client)
    assert "alice" in html
    assert re.search(
        r'<form method="post" action="/accounts/logout/"[^>]*>\s*<input type="hidden" name="csrf', html
    )


def test_demo_start_needs_csrf_token():
    browser = Client(enforce_csrf_checks=True)
    assert browser.get("/").status_code == 200  # sets the CSRF cookie
    assert browser.post("/demo/start/").status_code == 403


def test_demo_start_only_post(client):
    assert client.get("/demo/start/").status_code == 405


def test_demo_start_pushes_then_redirects(client, monkeypatch):
    calls = []

    def fake_push(details, state, challenge):
        calls.append((details, state, challenge))
        return demo_client.Reply(
            201, {"request_uri": "urn:ietf:params:oauth:request_uri:abc", "expires_in": 60}
        )

    monkeypatch.setattr(demo_client, "push_authorization_request", fake_push)
    response = client.post("/demo/start/")
    assert response.status_code == 302
    location = urlparse(response["Location"])
    assert location.path == AUTHORIZE_URL
    assert parse_qs(location.query) == {
        "client_id": ["demo-client"],
        "request_uri": ["urn:ietf:params:oauth:request_uri:abc"],
    }
    ((details, state, challenge),) = calls
    assert details == demo_client.SAMPLE_TRANSFER
    assert client.session[SESSION_KEY]["state"] == state
    assert client.session[SESSION_KEY]["code_verifier"]


def test_demo_start_shows_a_failed_push(client, monkeypatch):
    monkeypatch.setattr(
        demo_client,
        "push_authorization_request",
        lambda *args: demo_client.Reply(400, {"error": "invalid_request", "error_description": "<oops>"}),
    )
    html = html_of(client.post("/demo/start/"), status=502)
    assert "The pushed authorization request failed (HTTP 400)" in html
    assert "invalid_request" in html
    assert "&lt;oops&gt;" in html
    assert "<oops>" not in html
    assert SESSION_KEY not in client.session


def test_login_page(client):
    html = login_page(client)
    assert "Demo user: <code>alice</code> / <code>wonderland-42</code>" in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert 'name="username"' in html
    assert 'name="password"' in html
    assert 'name="next" value="/oauth/authorize?x=1"' in html


def test_login_hint_is_true(client):
    response = client.post(
        "/accounts/login/", {"username": "alice", "password": "wonderland-42", "next": "/"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.session["_auth_user_id"] == "1"


def test_home_admin_hint_is_true(client):
    assert "<code>admin</code> / <code>admin-42</code>" in home_page(client)
    response = client.post("/admin/login/", {"username": "admin", "password": "admin-42", "next": "/admin/"})
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_login_failure_message(client):
    html = html_of(client.post("/accounts/login/", {"username": "nobody", "password": "x"}))
    assert "didn&#x27;t match" in html or "didn't match" in html
    assert "_auth_user_id" not in client.session


def test_logout(alice_client):
    response = alice_client.post("/accounts/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert "_auth_user_id" not in alice_client.session


def test_callback_error(client):
    html = callback_page(
        client, error="access_denied", error_description="x", state="s", iss="http://127.0.0.1:8000"
    )
    assert '<code id="error">access_denied</code>' in html
    assert "<dd>x</dd>" in html
    assert '<code id="iss">http://127.0.0.1:8000</code>' in html
    assert "Exchange the code for tokens" not in html


def test_callback_code(client):
    html = callback_page(client, code="abc", state="s", iss="http://127.0.0.1:8000")
    assert '<code id="code">abc</code>' in html
    assert '<code id="iss">http://127.0.0.1:8000</code>' in html
    assert "(the expected issuer, RFC 9207)" in html
    assert "(this flow was not started by the demo client)" in html
    forms = re.findall(r"<form\b[^>]*>.*?</form>", html, re.S)
    exchange_forms = [f for f in forms if "Exchange the code for tokens" in f]
    assert len(exchange_forms) == 1
    form = exchange_forms[0]
    assert 'method="post"' in form
    assert 'name="csrfmiddlewaretoken"' in form
    assert 'name="code" value="abc"' in form
    assert 'name="state" value="s"' in form


def test_callback_wrong_issuer_is_flagged(client):
    html = callback_page(client, code="abc", state="s", iss="https://evil.example")
    assert "(expected http://127.0.0.1:8000)" in html
    assert "(the expected issuer, RFC 9207)" not in html


def test_callback_state_checked_against_the_session(client):
    session = client.session
    session[SESSION_KEY] = {"state": "s", "code_verifier": "v"}
    session.save()
    assert "(matches the one the client sent)" in callback_page(client, code="abc", state="s", iss=ISSUER)
    assert "(does not match!)" in callback_page(client, code="abc", state="other", iss=ISSUER)


def test_callback_escapes_values(client):
    html = callback_page(client, code="<b>x</b>", state='"><script>1</script>', iss="<i>iss</i>")
    assert '<code id="code">&lt;b&gt;x&lt;/b&gt;</code>' in html
    assert "<b>x</b>" not in html
    assert "<script>1</script>" not in html
    assert "&lt;i&gt;iss&lt;/i&gt;" in html
    assert "<i>iss</i>" not in html
    assert 'name="code" value="&lt;b&gt;x&lt;/b&gt;"' in html


def test_callback_error_escapes_values(client):
    html = callback_page(client, error="<b>e</b>", error_description="<img src=x onerror=alert(1)>")
    assert "&lt;b&gt;e&lt;/b&gt;" in html
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_callback_nothing_yet(client):
    html = callback_page(client)
    assert "Nothing yet" in html
    assert "Exchange the code for tokens" not in html


def test_callback_exchange_shows_token_response(client, monkeypatch):
    session = client.session
    session[SESSION_KEY] = {"state": "s", "code_verifier": "the-verifier"}
    session.save()
    calls = []

    def fake_exchange(code, verifier):
        calls.append((code, verifier))
        return demo_client.Reply(200, {"access_token": "at-<x>", "authorization_details": [MONEY_TRANSFER]})

    monkeypatch.setattr(demo_client, "exchange_code", fake_exchange)
    html = html_of(client.post(CALLBACK, {"code": "abc", "state": "s", "iss": ISSUER}))
    assert calls == [("abc", "the-verifier")]
    assert "Token response (HTTP 200)" in html
    assert 'id="token-response"' in html
    assert "at-&lt;x&gt;" in html
    assert "Hanna Herwitz" in html
    assert "Exchange the code for tokens" not in html
    assert SESSION_KEY not in client.session


def test_consent_page(alice_client):
    html = consent_page(alice_client)
    assert "Demo Bank App is asking for your authorization" in html
    assert "Money transfer" in html
    assert "Hanna Herwitz" in html
    assert 'name="transaction"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert "Signed in as alice." in html


def test_error_page(client):
    html = error_page(client)
    assert "This authorization request cannot be completed" in html
    assert "<code>invalid_request_uri</code>" in html
    assert "request_uri is unknown." in html


# -- templates rendered directly -------------------------------------------------------------------------


def test_render_base():
    html = render_to_string("rar_provider/base.html", {})
    assert "<title>Authorization</title>" in html
    assert '<html lang="en-us">' in html  # the active language (LANGUAGE_CODE)


def test_render_demo_base_anonymous_and_logged_in(alice):
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    html = render_to_string("demo/base.html", {}, request=request)
    assert 'href="/accounts/login/"' in html
    request.user = alice
    html = render_to_string("demo/base.html", {}, request=request)
    assert "alice" in html
    assert 'action="/accounts/logout/"' in html


def test_render_error_escapes():
    html = render_to_string(
        "rar_provider/error.html", {"error": "invalid_request", "error_description": "<script>x</script>"}
    )
    assert "<code>invalid_request</code>" in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html
    assert "<script>x</script>" not in html


def generic_rows() -> list[Row]:
    return [
        Row(label="Beneficiary", value="<b>Hanna</b>"),
        Row(
            label="Actions",
            is_list=True,
            children=[Row(label="", value="read"), Row(label="", value="write")],
        ),
        Row(label="Instructed amount", children=[Row(label="Currency", value="USD")]),
    ]


def test_render_generic_details():
    html = render_to_string("rar_provider/details/generic.html", {"rows": generic_rows()})
    assert "<dt>Beneficiary</dt>" in html
    assert "&lt;b&gt;Hanna&lt;/b&gt;" in html
    assert "<b>Hanna</b>" not in html
    assert '<ul class="values"><li>read</li><li>write</li></ul>' in html
    assert html.count('<dl class="rows">') == 2  # the nested object
    assert "<dt>Currency</dt>" in html


def test_render_consent_directly(alice):
    request = RequestFactory().get("/oauth/authorize")
    request.user = alice
    payments = ResourceServer.objects.get(identifier="urn:demo:payments")
    context = {
        "application": {"name": "Demo <Bank> App"},
        "details": build_detail_views([MONEY_TRANSFER], {t.type: t for t in payments.detail_types.all()}),
        "scopes": [("profile", "See your name and username")],
        "resource_server": payments,
        "transaction": "signed-transaction",
        "redirect_host": "127.0.0.1:8000",
    }
    html = render_to_string("rar_provider/consent.html", context, request=request)
    assert "Demo &lt;Bank&gt; App is asking for your authorization" in html
    assert "This is for Payments API." in html
    assert "After you decide you will be sent back to 127.0.0.1:8000." in html
    assert "Hanna Herwitz" in html
    assert "<strong>profile</strong>: See your name and username" in html
    assert 'value="signed-transaction"' in html


# -- every template is covered ---------------------------------------------------------------------------


def test_every_template_on_disk_is_rendered(client, alice, monkeypatch):
    on_disk = templates_on_disk()
    assert {"rar_provider/consent.html", "demo/home.html", "registration/login.html"} <= on_disk
    with recording_templates() as rendered:
        home_page(client)
        login_page(client)
        shipped_login_page()
        callback_page(client, code="abc", state="s", iss=ISSUER)
        fapi_page(client)
        error_page(client)
        client.force_login(alice)
        consent_page(client)
        authorizations_page(client)
        step_up_page(client)
        lockout_page(client)
        instruction_partial()
        test_render_base()
        test_render_error_escapes()
        test_render_generic_details()
        admin_type_pages()
    assert on_disk - rendered == set()  # (admin pages also render Django's own templates)


def admin_type_pages() -> None:
    """The type's admin page (its JSON editor widget) and its live preview of the consent rendering."""
    from django.contrib.auth.models import User

    from rar_provider.models import AuthorizationDetailType

    staff = Client()
    staff.force_login(User.objects.get(username="admin"))
    pk = AuthorizationDetailType.objects.get(type="money_transfer").pk
    html_of(staff.get(reverse("admin:rar_provider_authorizationdetailtype_change", args=[pk])))
    html_of(staff.get(reverse("admin:rar_provider_authorizationdetailtype_preview", args=[pk])))
