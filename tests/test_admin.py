"""The admin screens of rar_provider, driven as the demo's superuser ``admin``."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from html import unescape
from html.parser import HTMLParser

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application, RefreshToken

from rar_provider.models import (
    AuthorizationDetailType,
    AuthorizationGrant,
    ClientGrant,
    ClientPolicy,
    CodeRedemption,
    IssuedAccessToken,
    IssuedRefreshToken,
    PushedAuthorizationRequest,
    ResourceServer,
    hash_reference,
)
from rar_provider.policy import type_catalogue

from .conftest import (
    MONEY_TRANSFER,
    REQUEST_URI_PREFIX,
    approve,
    exchange,
    push,
    pushed_request_uri,
    redirect_params,
)

pytestmark = pytest.mark.django_db

REGISTERED = {
    ResourceServer,
    AuthorizationDetailType,
    ClientPolicy,
    PushedAuthorizationRequest,
    IssuedAccessToken,
    IssuedRefreshToken,
    CodeRedemption,
    AuthorizationGrant,
}
VALID_SCHEMA = {
    "type": "object",
    "required": ["type", "mandateId"],
    "properties": {
        "type": {"const": "direct_debit"},
        "mandateId": {"type": "string", "pattern": "^M[0-9]+$"},
    },
}


def url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def staff(db) -> Client:
    """A browser of its own, logged in as the demo's superuser (alice may use the ``client`` fixture)."""
    browser = Client()
    browser.force_login(User.objects.get(username="admin"))
    return browser


@pytest.fixture
def payments() -> ResourceServer:
    return ResourceServer.objects.get(identifier="urn:demo:payments")


@pytest.fixture
def tokens(alice_client) -> dict:
    """A full flow: pushed request, consent by alice, code exchanged for tokens."""
    params = redirect_params(approve(alice_client, pushed_request_uri(alice_client, [MONEY_TRANSFER])))
    response = exchange(alice_client, params["code"])
    assert response.status_code == 200, response.content
    body = response.json()
    assert IssuedAccessToken.objects.count() == 1
    assert IssuedRefreshToken.objects.count() == 1
    return body


def changelist_results(response) -> list:
    assert response.status_code == 200, (response.status_code, response.get("Location"))
    return list(response.context["cl"].result_list)


def filter_links(html: str) -> list[str]:
    """The query strings of every choice in the changelist's filter sidebar."""
    start = html.find('id="changelist-filter"')
    assert start != -1, "no filter sidebar"
    end = html.find("</nav>", start)
    links = [unescape(href) for href in re.findall(r'href="(\?[^"]*)"', html[start:end])]
    assert links
    return links


def form_errors(response) -> dict:
    assert response.status_code == 200, (response.status_code, response.get("Location"))
    return response.context["adminform"].form.errors


class _FormFields(HTMLParser):
    """The values a browser would submit from the admin's change form (``__prefix__`` templates left out)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.data: dict[str, list[str]] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def _add(self, name, value):
        if "__prefix__" not in name and name != "csrfmiddlewaretoken":
            self.data.setdefault(name, []).append(value)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "button"):
            if a.get("type") in ("checkbox", "radio"):
                if "checked" in a:
                    self._add(name, a.get("value", "on"))
            else:
                self._add(name, a.get("value", ""))
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in a:
            self._add(self._select, a.get("value", ""))
        elif tag == "textarea" and name:
            self._textarea = name
            self._add(name, "")

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            values = self.data[self._textarea]
            values[-1] += data.removeprefix("\n") if not values[-1] else data


def form_fields(html: str) -> dict[str, list[str]]:
    parser = _FormFields()
    parser.feed(html)
    return parser.data


# -- registration ----------------------------------------------------------------------------------------


def test_registered_models():
    ours = {
        model
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label == "rar_provider"
    }
    assert ours == REGISTERED


def test_admin_requires_staff(client, alice):
    assert client.get(url(ResourceServer, "changelist")).status_code == 302
    client.force_login(alice)  # not staff
    response = client.get(url(ResourceServer, "changelist"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_admin_index_lists_the_app(staff):
    response = staff.get(reverse("admin:app_list", args=["rar_provider"]))
    assert response.status_code == 200
    html = response.content.decode()
    for model in REGISTERED:
        assert f'href="{url(model, "changelist")}"' in html


# -- changelists, searches and filters -------------------------------------------------------------------


@pytest.mark.parametrize("model", sorted(REGISTERED, key=lambda m: m.__name__), ids=lambda m: m.__name__)
def test_changelist_renders(staff, tokens, model):
    results = changelist_results(staff.get(url(model, "changelist")))
    assert len(results) == model.objects.count() >= 1


SEARCHES = [
    (ResourceServer, "payments", 1),
    (ResourceServer, "no-such-api", 0),
    (AuthorizationDetailType, "money", 1),
    (AuthorizationDetailType, "urn:demo:payments", 3),
    (AuthorizationDetailType, "no-such-type", 0),
    (ClientPolicy, "demo-service", 1),
    (ClientPolicy, "Demo Bank App", 0),
    (PushedAuthorizationRequest, "demo-client", 1),
    (PushedAuthorizationRequest, "demo-public", 0),
    (IssuedAccessToken, "alice", 1),
    (IssuedAccessToken, "admin", 0),
    (IssuedRefreshToken, "Demo Bank App", 1),
    (IssuedRefreshToken, "nobody", 0),
    (AuthorizationGrant, "alice", 1),
    (AuthorizationGrant, "money_transfer", 1),
    (AuthorizationGrant, "admin", 0),
]


@pytest.mark.parametrize("model, query, count", SEARCHES, ids=[f"{m.__name__}-{q}" for m, q, _ in SEARCHES])
def test_changelist_search(staff, tokens, model, query, count):
    results = changelist_results(staff.get(url(model, "changelist"), {"q": query}))
    assert len(results) == count


def test_search_type_by_name(staff):
    results = changelist_results(staff.get(url(AuthorizationDetailType, "changelist"), {"q": "money"}))
    assert [t.type for t in results] == ["money_transfer"]


def test_search_pushed_request_by_hash(staff, client):
    request_uri = pushed_request_uri(client)
    push(client, [MONEY_TRANSFER])  # another one
    results = changelist_results(
        staff.get(url(PushedAuthorizationRequest, "changelist"), {"q": hash_reference(request_uri)})
    )
    assert [r.reference_hash for r in results] == [hash_reference(request_uri)]


@pytest.mark.parametrize("model", sorted(REGISTERED, key=lambda m: m.__name__), ids=lambda m: m.__name__)
def test_every_filter_choice_renders(staff, tokens, client, model):
    pushed_request_uri(client)  # a pending request beside the used one
    admin_class = admin.site._registry[model]
    assert admin_class.list_filter
    html = staff.get(url(model, "changelist")).content.decode()
    links = filter_links(html)
    assert len(links) > len(admin_class.list_filter)  # "All" plus at least one choice per filter
    for link in links:
        response = staff.get(url(model, "changelist") + link)
        # An invalid lookup redirects to ?e=1: every offered choice must be a valid one.
        assert response.status_code == 200, (link, response.status_code, response.get("Location"))
        # ... and with a search on top.
        response = staff.get(url(model, "changelist") + link + ("&" if link != "?" else "") + "q=demo")
        assert response.status_code == 200, (link, response.status_code)


@pytest.mark.parametrize(
    "model, params, count",
    [
        (ResourceServer, {"user_access_policy__exact": "allow_all"}, 1),
        (ResourceServer, {"user_access_policy__exact": "deny_all"}, 0),
        (ResourceServer, {"client_access_policy__exact": "require_client_grant"}, 1),
        (ResourceServer, {"consent_policy__exact": "transactional"}, 1),
        (ResourceServer, {"consent_policy__exact": "standard"}, 0),
        (ResourceServer, {"allow_partial_approval__exact": "1"}, 1),
        (AuthorizationDetailType, {"enabled__exact": "1"}, 3),
        (AuthorizationDetailType, {"enabled__exact": "0"}, 0),
        (AuthorizationDetailType, {"resource_server__id__exact": "1"}, 3),
        (ClientPolicy, {"require_pushed_authorization_requests__exact": "0"}, 1),
        (ClientPolicy, {"require_pushed_authorization_requests__exact": "1"}, 0),
        (PushedAuthorizationRequest, {"state": "used"}, 1),
        (PushedAuthorizationRequest, {"state": "pending"}, 0),
        (PushedAuthorizationRequest, {"resource_server__id__exact": "1"}, 1),
        (PushedAuthorizationRequest, {"application__id__exact": "1"}, 1),
        (PushedAuthorizationRequest, {"application__id__exact": "2"}, 0),
        (IssuedAccessToken, {"resource_server__id__exact": "1"}, 1),
        (IssuedRefreshToken, {"grant__resource_server__id__exact": "1"}, 1),
        (AuthorizationGrant, {"user__id__exact": "1"}, 1),
        (AuthorizationGrant, {"application__id__exact": "1"}, 1),
        (AuthorizationGrant, {"resource_server__id__exact": "1"}, 1),
        (AuthorizationGrant, {"detail_type": "money_transfer"}, 1),
        (AuthorizationGrant, {"detail_type": "account_information"}, 0),
        (AuthorizationGrant, {"status": "live"}, 1),
        (AuthorizationGrant, {"status": "revoked"}, 0),
        (AuthorizationGrant, {"status": "expired"}, 0),
        (AuthorizationGrant, {"reusable__exact": "0"}, 1),
    ],
    ids=lambda v: (
        v.__name__
        if isinstance(v, type)
        else "-".join(f"{k}={x}" for k, x in v.items())
        if isinstance(v, dict)
        else str(v)
    ),
)
def test_each_list_filter_selects(staff, tokens, model, params, count):
    assert len(changelist_results(staff.get(url(model, "changelist"), params))) == count


def test_type_enabled_filter(staff):
    AuthorizationDetailType.objects.filter(type="payment_initiation").update(enabled=False)
    results = changelist_results(
        staff.get(url(AuthorizationDetailType, "changelist"), {"enabled__exact": "0"})
    )
    assert [t.type for t in results] == ["payment_initiation"]
    results = changelist_results(
        staff.get(url(AuthorizationDetailType, "changelist"), {"enabled__exact": "1"})
    )
    assert sorted(t.type for t in results) == ["account_information", "money_transfer"]


def test_pushed_request_state_filter(staff, tokens, client):
    pending = hash_reference(pushed_request_uri(client))
    expired = hash_reference(pushed_request_uri(client))
    PushedAuthorizationRequest.objects.filter(reference_hash=expired).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    used = PushedAuthorizationRequest.objects.get(consumed_at__isnull=False).reference_hash
    changelist = url(PushedAuthorizationRequest, "changelist")
    for state, expected in (("pending", pending), ("used", used), ("expired", expired)):
        results = changelist_results(staff.get(changelist, {"state": state}))
        assert [r.reference_hash for r in results] == [expected], state
    assert len(changelist_results(staff.get(changelist))) == 3


def test_pushed_request_date_hierarchy(staff, client):
    pushed_request_uri(client)
    now = timezone.now()
    changelist = url(PushedAuthorizationRequest, "changelist")
    assert len(changelist_results(staff.get(changelist, {"created_at__year": now.year}))) == 1
    assert len(changelist_results(staff.get(changelist, {"created_at__year": now.year - 1}))) == 0


# -- add and change pages --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "model", [ResourceServer, AuthorizationDetailType, ClientPolicy], ids=lambda m: m.__name__
)
def test_add_page_renders(staff, model):
    response = staff.get(url(model, "add"))
    assert response.status_code == 200
    assert response.context["adminform"].form.instance.pk is None
    assert 'name="_save"' in response.content.decode()


@pytest.mark.parametrize(
    "model",
    [PushedAuthorizationRequest, IssuedAccessToken, IssuedRefreshToken, AuthorizationGrant],
    ids=lambda m: m.__name__,
)
def test_add_is_denied_for_records(staff, model):
    assert staff.get(url(model, "add")).status_code == 403
    assert staff.post(url(model, "add"), {}).status_code == 403
    assert model.objects.count() == 0


def test_resource_server_change_page(staff, payments):
    response = staff.get(url(ResourceServer, "change", payments.pk))
    assert response.status_code == 200
    html = response.content.decode()
    assert "urn:demo:payments" in html
    # The inline lists the API's types.
    for name in ("money_transfer", "payment_initiation", "account_information"):
        assert name in html


@pytest.mark.parametrize("name", ["money_transfer", "payment_initiation", "account_information"])
def test_type_change_page(staff, name):
    detail_type = AuthorizationDetailType.objects.get(type=name)
    response = staff.get(url(AuthorizationDetailType, "change", detail_type.pk))
    assert response.status_code == 200
    form = response.context["adminform"].form
    assert form.instance == detail_type
    assert json.loads(form["json_schema"].value()) == detail_type.json_schema


def test_client_policy_change_page(staff):
    policy = ClientPolicy.objects.get(application__client_id="demo-service")
    response = staff.get(url(ClientPolicy, "change", policy.pk))
    assert response.status_code == 200
    assert "account_information" in response.content.decode()


# -- authorization details types: JSON Schema validation -------------------------------------------------


def type_form(payments, name="direct_debit", schema=None, **extra) -> dict:
    data = {
        "resource_server": str(payments.pk),
        "type": name,
        "enabled": "on",
        "label": "Direct debit",
        "description": "",
        "json_schema": json.dumps(VALID_SCHEMA if schema is None else schema),
        # The inline of fields shown on the consent page: none.
        "display_fields-TOTAL_FORMS": "0",
        "display_fields-INITIAL_FORMS": "0",
        "display_fields-MIN_NUM_FORMS": "0",
        "display_fields-MAX_NUM_FORMS": "1000",
    }
    data.update(extra)
    return data


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "nonsense"},
        {"properties": {"a": {"pattern": "("}}},
        {"required": "type"},
        {"$schema": "https://example.com/not-a-draft"},
        [],
        "a string",
        {"properties": {"a": {"$ref": "#/$defs/missing"}}},
        {"$ref": "https://example.com/schema.json"},
    ],
    ids=["bad-type", "bad-pattern", "bad-required", "unknown-draft", "array", "string", "ref", "remote-ref"],
)
def test_admin_refuses_invalid_schema(staff, payments, schema):
    before = AuthorizationDetailType.objects.count()
    response = staff.post(url(AuthorizationDetailType, "add"), type_form(payments, schema=schema))
    errors = form_errors(response)
    assert "json_schema" in errors
    assert "not a valid JSON Schema" in " ".join(errors["json_schema"])
    assert "not a valid JSON Schema" in response.content.decode()
    assert AuthorizationDetailType.objects.count() == before
    assert not AuthorizationDetailType.objects.filter(type="direct_debit").exists()


def test_admin_refuses_text_that_is_not_json(staff, payments):
    response = staff.post(url(AuthorizationDetailType, "add"), type_form(payments, json_schema="{not json"))
    assert "json_schema" in form_errors(response)
    assert not AuthorizationDetailType.objects.filter(type="direct_debit").exists()


def test_admin_refuses_invalid_schema_on_change(staff):
    detail_type = AuthorizationDetailType.objects.get(type="money_transfer")
    original = detail_type.json_schema
    data = type_form(detail_type.resource_server, name="money_transfer", schema={"type": "nonsense"})
    response = staff.post(url(AuthorizationDetailType, "change", detail_type.pk), data)
    assert "not a valid JSON Schema" in " ".join(form_errors(response)["json_schema"])
    detail_type.refresh_from_db()
    assert detail_type.json_schema == original


def test_admin_refuses_schema_with_unresolvable_ref(staff, payments):
    response = staff.post(
        url(AuthorizationDetailType, "add"), type_form(payments, schema={"$ref": "#/$defs/missing"})
    )
    assert "json_schema" in form_errors(response)
    assert not AuthorizationDetailType.objects.filter(type="direct_debit").exists()


def test_admin_saves_valid_schema(staff, payments):
    response = staff.post(url(AuthorizationDetailType, "add"), type_form(payments))
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    assert response["Location"] == url(AuthorizationDetailType, "changelist")
    saved = AuthorizationDetailType.objects.get(resource_server=payments, type="direct_debit")
    assert saved.json_schema == VALID_SCHEMA
    assert saved.enabled is True
    assert saved.label == "Direct debit"


def test_admin_saves_schema_with_local_ref(staff, payments):
    schema = {
        "$defs": {"mandate": {"type": "string", "pattern": "^M[0-9]+$"}},
        "properties": {"mandateId": {"$ref": "#/$defs/mandate"}},
    }
    response = staff.post(url(AuthorizationDetailType, "add"), type_form(payments, schema=schema))
    assert response.status_code == 302, form_errors(response)
    assert AuthorizationDetailType.objects.get(type="direct_debit").json_schema == schema


def test_admin_saves_empty_schema(staff, payments):
    response = staff.post(url(AuthorizationDetailType, "add"), type_form(payments, schema={}))
    assert response.status_code == 302
    assert AuthorizationDetailType.objects.get(type="direct_debit").json_schema == {}


@pytest.mark.parametrize(
    "schema", [{"type": "nonsense"}, {"properties": {"a": {"pattern": "("}}}, ["not", "an", "object"]]
)
def test_model_save_refuses_invalid_schema(payments, schema):
    before = AuthorizationDetailType.objects.count()
    with pytest.raises(ValidationError, match="not a valid JSON Schema"):
        AuthorizationDetailType(resource_server=payments, type="direct_debit", json_schema=schema).save()
    assert AuthorizationDetailType.objects.count() == before


def test_model_save_refuses_invalid_schema_on_update():
    detail_type = AuthorizationDetailType.objects.get(type="money_transfer")
    original = detail_type.json_schema
    detail_type.json_schema = {"type": "nonsense"}
    with pytest.raises(ValidationError):
        detail_type.save()
    detail_type.refresh_from_db()
    assert detail_type.json_schema == original


def test_model_save_accepts_valid_schema(payments):
    AuthorizationDetailType(resource_server=payments, type="direct_debit", json_schema=VALID_SCHEMA).save()
    assert AuthorizationDetailType.objects.get(type="direct_debit").json_schema == VALID_SCHEMA


def test_admin_refuses_duplicate_type(staff, payments):
    before = AuthorizationDetailType.objects.count()
    response = staff.post(url(AuthorizationDetailType, "add"), type_form(payments, name="money_transfer"))
    errors = form_errors(response)
    assert errors
    assert "already exists" in str(errors)
    assert AuthorizationDetailType.objects.count() == before
    assert AuthorizationDetailType.objects.filter(type="money_transfer").count() == 1


def test_admin_allows_same_name_with_other_case(staff, payments):
    """RFC 9396 §2: types are compared exactly, so Money_Transfer is another type."""
    response = staff.post(url(AuthorizationDetailType, "add"), type_form(payments, name="Money_Transfer"))
    assert response.status_code == 302
    names = set(
        AuthorizationDetailType.objects.filter(resource_server=payments).values_list("type", flat=True)
    )
    assert {"money_transfer", "Money_Transfer"} <= names


def test_admin_allows_same_type_on_another_api(staff):
    other = ResourceServer.objects.create(name="Other", identifier="urn:demo:other")
    response = staff.post(url(AuthorizationDetailType, "add"), type_form(other, name="money_transfer"))
    assert response.status_code == 302
    assert AuthorizationDetailType.objects.filter(type="money_transfer").count() == 2


# -- pushed authorization requests -----------------------------------------------------------------------


def test_pushed_request_changelist(staff, client):
    request_uri = pushed_request_uri(client)
    response = staff.get(url(PushedAuthorizationRequest, "changelist"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "Demo Bank App" in html
    assert "money_transfer" in html
    assert request_uri not in html
    assert request_uri[len(REQUEST_URI_PREFIX) :] not in html


def test_pushed_request_change_view_shows_only_the_hash(staff, client):
    response = push(client, [MONEY_TRANSFER])
    assert response.status_code == 201
    request_uri = response.json()["request_uri"]
    record = PushedAuthorizationRequest.objects.get()
    page = staff.get(url(PushedAuthorizationRequest, "change", record.pk))
    assert page.status_code == 200
    html = page.content.decode()
    assert hash_reference(request_uri) in html
    assert request_uri not in html
    assert request_uri[len(REQUEST_URI_PREFIX) :] not in html
    assert "Hanna Herwitz" in html  # the details are shown
    assert "st-123" in html  # and the parameters


def test_pushed_request_change_view_has_no_client_secret(staff, client):
    response = push(client, [MONEY_TRANSFER], auth={}, client_secret="demo-secret")
    assert response.status_code == 201
    record = PushedAuthorizationRequest.objects.get()
    html = staff.get(url(PushedAuthorizationRequest, "change", record.pk)).content.decode()
    assert "Hanna Herwitz" in html
    assert "demo-secret" not in html


def test_pushed_request_is_read_only(staff, client):
    pushed_request_uri(client)
    record = PushedAuthorizationRequest.objects.get()
    response = staff.post(
        url(PushedAuthorizationRequest, "change", record.pk), {"consumed_at_0": "2020-01-01"}
    )
    assert response.status_code == 403
    record.refresh_from_db()
    assert record.consumed_at is None
    assert staff.get(url(PushedAuthorizationRequest, "add")).status_code == 403


# -- access and refresh token details --------------------------------------------------------------------


def secrets_of(tokens: dict) -> list[str]:
    access = AccessToken.objects.get()
    refresh = RefreshToken.objects.get()
    assert access.token == tokens["access_token"]
    return [tokens["access_token"], tokens["refresh_token"], access.token, refresh.token]


@pytest.mark.parametrize("model", [IssuedAccessToken, IssuedRefreshToken], ids=lambda m: m.__name__)
def test_token_details_pages_never_show_tokens(staff, tokens, model):
    record = model.objects.get()
    pages = {
        "changelist": url(model, "changelist"),
        "search": url(model, "changelist") + "?q=alice",
        "change": url(model, "change", record.pk),
        "history": url(model, "history", record.pk),
        "delete": url(model, "delete", record.pk),
    }
    values = secrets_of(tokens)
    for name, page in pages.items():
        response = staff.get(page)
        assert response.status_code == 200, name
        html = response.content.decode()
        assert "money_transfer" in html, name
        for value in values:
            assert value not in html, name


def test_access_token_details_columns(staff, tokens):
    html = staff.get(url(IssuedAccessToken, "changelist")).content.decode()
    assert "alice" in html
    assert "Demo Bank App" in html
    html = staff.get(url(IssuedAccessToken, "change", IssuedAccessToken.objects.get().pk)).content.decode()
    assert "Hanna Herwitz" in html
    assert "Payments API" in html


@pytest.mark.parametrize("model", [IssuedAccessToken, IssuedRefreshToken], ids=lambda m: m.__name__)
def test_token_details_are_read_only(staff, tokens, model):
    record = model.objects.get()
    response = staff.post(url(model, "change", record.pk), {"authorization_details": "[]"})
    assert response.status_code == 403
    record.refresh_from_db()
    assert record.authorization_details == [MONEY_TRANSFER]


# -- client policies -------------------------------------------------------------------------------------


def management_prefix(html: str) -> str:
    prefixes = re.findall(r'name="([\w-]+)-TOTAL_FORMS"', html)
    assert len(prefixes) == 1, prefixes
    return prefixes[0]


def policy_form(
    staff, application, grants: list[tuple[ResourceServer, list[AuthorizationDetailType]]]
) -> dict:
    page = staff.get(url(ClientPolicy, "add"))
    assert page.status_code == 200
    prefix = management_prefix(page.content.decode())
    data = {
        "application": str(application.pk),
        f"{prefix}-TOTAL_FORMS": str(len(grants)),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for index, (server, types) in enumerate(grants):
        data[f"{prefix}-{index}-resource_server"] = str(server.pk)
        data[f"{prefix}-{index}-detail_types"] = [str(t.pk) for t in types]
        data[f"{prefix}-{index}-id"] = ""
        data[f"{prefix}-{index}-policy"] = ""
    return data


def test_client_policy_add_with_grant(staff, payments):
    application = Application.objects.get(client_id="demo-client")
    money = AuthorizationDetailType.objects.get(type="money_transfer")
    data = policy_form(staff, application, [(payments, [money])])
    data["require_pushed_authorization_requests"] = "on"
    response = staff.post(url(ClientPolicy, "add"), data)
    assert response.status_code == 302, response.context and response.context["errors"]
    policy = ClientPolicy.objects.get(application=application)
    assert policy.require_pushed_authorization_requests is True
    grant = ClientGrant.objects.get(policy=policy)
    assert grant.resource_server == payments
    assert [t.type for t in grant.detail_types.all()] == ["money_transfer"]
    # The grant is what the client-credentials policy (require_client_grant) reads.
    catalogue = type_catalogue(payments, application, on_behalf_of_user=False)
    assert catalogue.allowed == frozenset({"money_transfer"})
    # And the changelist shows the API granted.
    html = staff.get(url(ClientPolicy, "changelist")).content.decode()
    assert "urn:demo:payments" in html


def test_client_policy_one_grant_per_api(staff, payments):
    application = Application.objects.get(client_id="demo-client")
    money = AuthorizationDetailType.objects.get(type="money_transfer")
    data = policy_form(staff, application, [(payments, [money]), (payments, [])])
    response = staff.post(url(ClientPolicy, "add"), data)
    assert response.status_code == 200
    assert response.context["errors"]
    assert not ClientPolicy.objects.filter(application=application).exists()


def test_client_policy_one_per_client(staff, payments):
    application = Application.objects.get(client_id="demo-service")  # has one in the demo data
    response = staff.post(url(ClientPolicy, "add"), policy_form(staff, application, []))
    assert "application" in form_errors(response)
    assert ClientPolicy.objects.filter(application=application).count() == 1


def test_client_policy_grant_refuses_types_of_another_api(staff, payments):
    other = ResourceServer.objects.create(name="Other", identifier="urn:demo:other")
    foreign = AuthorizationDetailType.objects.create(resource_server=other, type="money_transfer")
    application = Application.objects.get(client_id="demo-client")
    response = staff.post(url(ClientPolicy, "add"), policy_form(staff, application, [(payments, [foreign])]))
    assert response.status_code == 200
    assert not ClientPolicy.objects.filter(application=application).exists()


def test_grant_of_another_apis_type_allows_nothing_here(payments):
    other = ResourceServer.objects.create(name="Other", identifier="urn:demo:other")
    foreign = AuthorizationDetailType.objects.create(resource_server=other, type="money_transfer")
    application = Application.objects.get(client_id="demo-client")
    grant = ClientGrant.objects.create(
        policy=ClientPolicy.objects.create(application=application), resource_server=payments
    )
    grant.detail_types.add(foreign)
    assert type_catalogue(payments, application, on_behalf_of_user=False).allowed == frozenset()


def round_trip(staff, change_url: str, **changes) -> tuple[dict, object]:
    page = staff.get(change_url)
    assert page.status_code == 200
    data = form_fields(page.content.decode())
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data, staff.post(change_url, data)


def test_resource_server_change_round_trip(staff, payments):
    data, response = round_trip(staff, url(ResourceServer, "change", payments.pk), name="Payments API v2")
    assert data["identifier"] == ["urn:demo:payments"]
    assert response.status_code == 302, form_errors(response)
    payments.refresh_from_db()
    assert payments.name == "Payments API v2"
    assert AuthorizationDetailType.objects.filter(resource_server=payments, enabled=True).count() == 3
    # The round trip keeps the API's resource server clients (they may introspect its tokens).
    assert list(payments.introspection_clients.values_list("client_id", flat=True)) == ["payments-api"]


def test_resource_server_clients_are_chosen_on_the_api_page(staff, payments):
    html = staff.get(url(ResourceServer, "change", payments.pk)).content.decode()
    assert 'name="introspection_clients"' in html and "Resource server clients" in html


def test_resource_server_inline_disables_a_type(staff, payments):
    page = staff.get(url(ResourceServer, "change", payments.pk)).content.decode()
    data = form_fields(page)
    (index,) = [
        k.split("-")[1] for k, v in data.items() if k.endswith("-type") and v == ["payment_initiation"]
    ]
    _, response = round_trip(
        staff, url(ResourceServer, "change", payments.pk), **{f"detail_types-{index}-enabled": None}
    )
    assert response.status_code == 302
    assert AuthorizationDetailType.objects.get(type="payment_initiation").enabled is False
    assert AuthorizationDetailType.objects.get(type="money_transfer").enabled is True


def test_resource_server_inline_adds_a_type(staff, payments):
    _, response = round_trip(
        staff,
        url(ResourceServer, "change", payments.pk),
        **{
            "detail_types-TOTAL_FORMS": "4",
            "detail_types-3-type": "direct_debit",
            "detail_types-3-label": "Direct debit",
            "detail_types-3-enabled": "on",
            "detail_types-3-resource_server": str(payments.pk),
            "detail_types-3-id": "",
        },
    )
    assert response.status_code == 302
    added = AuthorizationDetailType.objects.get(type="direct_debit")
    assert added.resource_server == payments
    assert added.json_schema == {}


def test_resource_server_page_saves_with_a_stored_invalid_schema(staff, payments):
    """A schema stored without Model.save() (loaddata, QuerySet.update) must not break the API's page:
    the operator must still be able to edit the API, e.g. to disable the broken type."""
    AuthorizationDetailType.objects.filter(type="money_transfer").update(json_schema={"type": "nonsense"})
    page = staff.get(url(ResourceServer, "change", payments.pk)).content.decode()
    data = form_fields(page)
    (index,) = [k.split("-")[1] for k, v in data.items() if k.endswith("-type") and v == ["money_transfer"]]
    data.pop(f"detail_types-{index}-enabled")
    response = staff.post(url(ResourceServer, "change", payments.pk), data)
    assert response.status_code == 302
    assert AuthorizationDetailType.objects.get(type="money_transfer").enabled is False


@pytest.mark.parametrize("name", ["money_transfer", "payment_initiation", "account_information"])
def test_type_change_round_trip_keeps_the_schema(staff, name):
    detail_type = AuthorizationDetailType.objects.get(type=name)
    original = detail_type.json_schema
    _, response = round_trip(staff, url(AuthorizationDetailType, "change", detail_type.pk), label="Renamed")
    assert response.status_code == 302, form_errors(response)
    detail_type.refresh_from_db()
    assert detail_type.label == "Renamed"
    assert detail_type.json_schema == original


def test_client_policy_change_round_trip_keeps_the_grant(staff):
    policy = ClientPolicy.objects.get(application__client_id="demo-service")
    data, response = round_trip(
        staff, url(ClientPolicy, "change", policy.pk), require_pushed_authorization_requests="on"
    )
    assert response.status_code == 302, form_errors(response)
    policy.refresh_from_db()
    assert policy.require_pushed_authorization_requests is True
    grant = policy.grants.get()
    assert [t.type for t in grant.detail_types.all()] == ["account_information"]


# -- access-token format of an API (issue 3) ----------------------------------------------------------------


def api_form(**fields) -> dict:
    data = {
        "name": "Records API",
        "identifier": "urn:demo:records",
        "description": "",
        "user_access_policy": "allow_all",
        "client_access_policy": "require_client_grant",
        "consent_policy": "standard",
        "access_token_format": "opaque",
        "encryption_key": "",
        "encryption_alg": "RSA-OAEP-256",
        "encryption_enc": "A256GCM",
        "detail_types-TOTAL_FORMS": "0",
        "detail_types-INITIAL_FORMS": "0",
        "detail_types-MIN_NUM_FORMS": "0",
        "detail_types-MAX_NUM_FORMS": "1000",
    }
    data.update(fields)
    return data


def public_rsa_pem() -> str:
    from jwcrypto import jwk

    return jwk.JWK.generate(kty="RSA", size=2048).export_to_pem().decode()


def test_admin_creates_a_jwe_api_with_its_public_key(staff):
    pem = public_rsa_pem()
    response = staff.post(url(ResourceServer, "add"), api_form(access_token_format="jwe", encryption_key=pem))
    assert response.status_code == 302, response.context["adminform"].form.errors
    api = ResourceServer.objects.get(identifier="urn:demo:records")
    assert api.access_token_format == "jwe" and api.encryption_key.strip() == pem.strip()


@pytest.mark.parametrize(
    "fields, field, mentions",
    [
        ({"access_token_format": "jwe"}, "encryption_key", "no key was given"),
        ({"access_token_format": "jwe", "encryption_key": "garbage"}, "encryption_key", "not a readable"),
        (
            {"access_token_format": "jwe", "encryption_alg": "ECDH-ES+A256KW"},
            "encryption_alg",
            "needs an EC key",
        ),
    ],
)
def test_admin_refuses_a_jwe_api_without_a_usable_key(staff, fields, field, mentions):
    if field == "encryption_alg":
        fields = {**fields, "encryption_key": public_rsa_pem()}
    response = staff.post(url(ResourceServer, "add"), api_form(**fields))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert mentions in " ".join(errors[field]), errors
    assert not ResourceServer.objects.filter(identifier="urn:demo:records").exists()


def test_admin_refuses_a_private_encryption_key(staff):
    from jwcrypto import jwk

    private = jwk.JWK.generate(kty="RSA", size=2048).export_to_pem(private_key=True, password=None).decode()
    response = staff.post(
        url(ResourceServer, "add"), api_form(access_token_format="jwe", encryption_key=private)
    )
    assert "private key" in " ".join(response.context["adminform"].form.errors["encryption_key"])


def test_admin_refuses_jwt_without_a_signing_key(staff, settings):
    settings.RAR_PROVIDER = {**settings.RAR_PROVIDER, "SIGNING_KEYS": []}
    response = staff.post(url(ResourceServer, "add"), api_form(access_token_format="jwt"))
    assert response.status_code == 200
    assert "rar_generate_key" in " ".join(response.context["adminform"].form.errors["access_token_format"])


def test_code_redemptions_are_read_only(staff, tokens):
    redemption = CodeRedemption.objects.get()
    assert staff.get(url(CodeRedemption, "add")).status_code == 403
    page = staff.get(url(CodeRedemption, "change", redemption.pk))
    assert page.status_code == 200
    assert redemption.code_hash in page.content.decode()
    assert tokens["access_token"] not in page.content.decode()
    listing = staff.get(url(CodeRedemption, "changelist") + "?replayed_at__isempty=1")
    assert changelist_results(listing) == [redemption]
