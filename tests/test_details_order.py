"""Details round-trip exactly (issue 8, example 6): what the client sent comes back with the same members
in the same order in the token response, the refreshed token response, introspection, the JWT claim,
the consent page and "Your authorizations", on SQLite and on PostgreSQL (whose ``jsonb`` reorders the
members of an object: shortest key first)."""

from __future__ import annotations

import pytest
from django.core.exceptions import FieldError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from rar_provider.models import (
    AuthorizationDetailType,
    AuthorizationGrant,
    IssuedAccessToken,
    IssuedCode,
    IssuedRefreshToken,
    PushedAuthorizationRequest,
    ResourceServer,
)

from .conftest import (
    AUTHORIZE_URL,
    CONFIDENTIAL,
    authorize_query,
    consent_transaction,
    exchange,
    pushed_request_uri,
)
from .test_tokens import claims_of, introspect, redirect_params, refresh

pytestmark = pytest.mark.django_db

#: The issue's example: sent as type, quantity, color, actions (jsonb returns type, color, actions, quantity).
WIDGET_ORDER = {"type": "widget_order", "quantity": 9, "color": "blue", "actions": ["order"]}
#: The same kind one level down: a nested object's members keep their order too.
DELIVERY = {
    "type": "widget_delivery",
    "address": {"street": "1 Main St", "city": "Springfield", "zip": "12345"},
    "window": {"to": "18:00", "from": "09:00"},
}
SENT = [WIDGET_ORDER, DELIVERY]


def member_order(value):
    """The order of every object's members, recursively: what an equality check of dicts ignores."""
    if isinstance(value, dict):
        return [(key, member_order(item)) for key, item in value.items()]
    if isinstance(value, list):
        return [member_order(item) for item in value]
    return value


def assert_same_order(received):
    assert received == SENT
    assert member_order(received) == member_order(SENT)


@pytest.fixture
def widget_types():
    payments = ResourceServer.objects.get(identifier="urn:demo:payments")  # JWT access tokens
    for name in ("widget_order", "widget_delivery"):
        AuthorizationDetailType.objects.create(resource_server=payments, type=name, json_schema={})


def positions(html: str, *labels: str) -> list[int]:
    found = [html.find(f">{label}<") for label in labels]
    assert -1 not in found, (labels, found)
    return found


def assert_rendered_in_order(html: str):
    quantity, color, actions = positions(html, "Quantity", "Color", "Actions")
    assert quantity < color < actions, html
    street, city, zip_code = positions(html, "Street", "City", "Zip")
    assert street < city < zip_code
    to, from_ = positions(html, "To", "From")
    assert to < from_


def test_details_keep_their_members_order_everywhere(alice_client, widget_types):
    request_uri = pushed_request_uri(alice_client, SENT)
    assert_same_order(PushedAuthorizationRequest.objects.get().authorization_details)

    page = alice_client.get(AUTHORIZE_URL, authorize_query(request_uri))
    assert_rendered_in_order(page.content.decode())
    decision = {"transaction": consent_transaction(page), "decision": "allow"}
    decided = alice_client.post(AUTHORIZE_URL, decision)
    assert_same_order(IssuedCode.objects.get().authorization_details)
    assert_same_order(AuthorizationGrant.objects.get().authorization_details)

    body = exchange(alice_client, redirect_params(decided)["code"]).json()
    assert_same_order(body["authorization_details"])
    assert_same_order(claims_of(body["access_token"])["authorization_details"])
    assert_same_order(IssuedAccessToken.objects.get().authorization_details)
    assert_same_order(introspect(alice_client, body["access_token"]).json()["authorization_details"])
    refresh_data = introspect(
        alice_client, body["refresh_token"], auth=CONFIDENTIAL, token_type_hint="refresh_token"
    ).json()
    assert_same_order(refresh_data["authorization_details"])

    refreshed = refresh(alice_client, body["refresh_token"]).json()
    assert_same_order(refreshed["authorization_details"])
    assert_same_order(claims_of(refreshed["access_token"])["authorization_details"])
    assert all(
        member_order(row.authorization_details) == member_order(SENT)
        for row in IssuedRefreshToken.objects.all()
    )

    assert_rendered_in_order(alice_client.get("/oauth/authorizations/").content.decode())


@pytest.mark.django_db
def test_the_json_schema_keeps_its_order_in_admin(client, django_user_model):
    """The JSON an operator sees: the type's JSON Schema reads back as it was written."""
    payments = ResourceServer.objects.get(identifier="urn:demo:payments")
    schema = {
        "type": "object",
        "properties": {"quantity": {"type": "integer"}, "color": {"type": "string"}},
        "required": ["type"],
    }
    detail_type = AuthorizationDetailType.objects.create(
        resource_server=payments, type="widget_order", json_schema=schema
    )
    detail_type.refresh_from_db()
    assert member_order(detail_type.json_schema) == member_order(schema)
    client.force_login(django_user_model.objects.get(username="admin"))
    page = client.get(f"/admin/rar_provider/authorizationdetailtype/{detail_type.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert html.index("&quot;quantity&quot;") < html.index("&quot;color&quot;") < html.index("&quot;required")


@pytest.mark.django_db
def test_json_path_lookups_are_refused_not_run_on_text():
    with pytest.raises(FieldError):
        list(AuthorizationGrant.objects.filter(authorization_details__0__type="widget_order"))
    with pytest.raises(FieldError):
        list(AuthorizationGrant.objects.filter(authorization_details__contains=[{"type": "widget_order"}]))
    assert list(AuthorizationGrant.objects.filter(authorization_details=SENT)) == []


@pytest.mark.django_db(transaction=True)
def test_migration_to_text_keeps_the_stored_details(load_demo_data):
    """Migration 0006 turns the JSON columns into text and keeps every stored value."""
    before = [("rar_provider", "0005_lifecycles_admin")]
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes("rar_provider")
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    client = old.get_model("oauth2_provider", "Application").objects.get(client_id="demo-client")
    old.get_model("rar_provider", "PushedAuthorizationRequest").objects.create(
        reference_hash="0" * 64,
        application_id=client.pk,
        parameters=[["client_id", "demo-client"]],
        authorization_details=SENT,
        expires_at=timezone.now(),
    )
    executor = MigrationExecutor(connection)
    executor.migrate(latest)
    stored = PushedAuthorizationRequest.objects.get(reference_hash="0" * 64)
    # The values are kept; the member order is what the old column kept (jsonb had re-sorted it).
    assert stored.authorization_details == SENT
    assert stored.parameters == [["client_id", "demo-client"]]


def test_every_stored_json_of_the_app_and_the_demo_keeps_its_order():
    """The kind behind example 6: a plain JSONField is jsonb on PostgreSQL and re-sorts members."""
    from django.apps import apps
    from django.db import models

    from rar_provider.fields import OrderedJSONField

    json_fields = [
        (f"{model._meta.label}.{field.name}", isinstance(field, OrderedJSONField))
        for app in ("rar_provider", "demo_site", "payments")
        for model in apps.get_app_config(app).get_models()
        for field in model._meta.get_fields()
        if isinstance(field, models.JSONField)
    ]
    assert [name for name, ordered in json_fields if not ordered] == []
    assert "rar_provider.AuthorizationGrant.authorization_details" in dict(json_fields)
    assert "payments.Transfer.authorization_detail" in dict(json_fields)
