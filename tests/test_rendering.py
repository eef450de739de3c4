"""How details are shown (RFC 9396 §3): select_template per type, the generic and the
"instruction + properties" partials, presentation set in admin, nothing stored rendered as code."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse

from rar_provider.details.instruction import is_instruction_shape, present_instruction
from rar_provider.models import AuthorizationDetailType, DisplayField, ResourceServer
from rar_provider.partials import (
    GENERIC,
    INSTRUCTION,
    template_names,
    type_template_name,
    validate_template_name,
)

from .conftest import AUTHORIZE_URL, MONEY_TRANSFER, authorize_query, pushed_request_uri

PAYMENT_INITIATION = {  # RFC 9396 §2
    "type": "payment_initiation",
    "actions": ["initiate", "status"],
    "locations": ["https://example.com/payments"],
    "instructedAmount": {"currency": "EUR", "amount": "123.50"},
    "creditorName": "Merchant A",
    "creditorAccount": {"iban": "DE02100100109307118603"},
    "remittanceInformationUnstructured": "Ref Number Merchant",
}
PROFILE_TYPE = "urn:example:authorization-details:v1:user-profile"
INSTRUCTION_DETAIL = {
    "type": PROFILE_TYPE,
    "instruction": "Share your profile with the app",
    "properties": {
        "numberForDisplay": {
            "display": True,
            "name": "A Number:",
            "display_order": 2,
            "value": 100.5,
            "description": "An optional description",
        },
        "stringForDisplay": {"display": True, "name": "A String:", "display_order": "1", "value": "Value 1"},
        "booleanForDisplay": {"display": True, "display_order": 3, "value": True},
        "hiddenProperty": {"display": False, "value": "This value should not be displayed"},
        "noDisplayFlag": {"value": "Not displayed either"},
    },
}


# -- pure -------------------------------------------------------------------------------------------------


def test_template_names_most_specific_first():
    assert template_names({"type": "money_transfer"}, "bank/transfer.html") == [
        "bank/transfer.html",
        "rar_provider/details/money_transfer.html",
        GENERIC,
    ]
    assert template_names({"type": "money_transfer"}) == ["rar_provider/details/money_transfer.html", GENERIC]
    assert template_names(INSTRUCTION_DETAIL) == [INSTRUCTION, GENERIC]


@pytest.mark.parametrize("type_", ["urn:x:y", "../../etc/passwd", "a/b", "..", ".hidden", ""])
def test_unsafe_type_names_get_no_file_of_their_own(type_):
    assert type_template_name(type_) is None


@pytest.mark.parametrize("name", ["bank/transfer.html", "x.html", "a-b/c_d.e.html"])
def test_valid_template_names(name):
    validate_template_name(name)


@pytest.mark.parametrize(
    "name", ["../secret.html", "a/../../b.html", "/etc/x.html", "x.txt", "{{x}}.html", "a b.html"]
)
def test_invalid_template_names(name):
    with pytest.raises(ValidationError):
        validate_template_name(name)


def test_instruction_shape_detection():
    assert is_instruction_shape(INSTRUCTION_DETAIL)
    assert not is_instruction_shape(MONEY_TRANSFER)
    assert not is_instruction_shape({"type": "x", "properties": {"a": "not an object"}})
    assert not is_instruction_shape({"type": "x", "properties": {"a": {"name": "no value"}}})
    assert not is_instruction_shape({"type": "x", "instruction": 5, "properties": {"a": {"value": 1}}})
    # A member the shape does not show, or a label that is not text, would be granted unseen: such a
    # detail is shown by the generic partial, every member a row (found by a review).
    extra = {"display": True, "name": "Email", "value": "alice@example.com", "permission": "example"}
    assert not is_instruction_shape({"type": "x", "properties": {"email": extra}})
    assert not is_instruction_shape({"type": "x", "properties": {"a": {"value": 1, "name": 12345}}})
    assert not is_instruction_shape({"type": "x", "properties": {"a": {"value": 1, "display": "no"}}})
    with pytest.raises(ValueError):
        present_instruction(MONEY_TRANSFER)


def test_instruction_only_displayed_properties_in_order():
    shown = present_instruction(INSTRUCTION_DETAIL)
    assert shown.instruction == "Share your profile with the app"
    assert [(p.name, p.value) for p in shown.properties] == [
        ("A String", "Value 1"),
        ("A Number", "100.5"),
        ("Boolean for display", "Yes"),
    ]
    assert shown.properties[1].description == "An optional description"
    assert [(p.key, p.value) for p in shown.more] == [
        ("hiddenProperty", "This value should not be displayed"),
        ("noDisplayFlag", "Not displayed either"),
    ]


# -- through the consent page ----------------------------------------------------------------------------


def rendered(response) -> list[str]:
    return [t.name for t in response.templates]


def consent_html(alice_client, details):
    response = alice_client.get(AUTHORIZE_URL, authorize_query(pushed_request_uri(alice_client, details)))
    assert response.status_code == 200, response.get("Location")
    return response, response.content.decode()


@pytest.mark.django_db
def test_projects_own_partial_for_a_type(alice_client):
    response, html = consent_html(alice_client, [MONEY_TRANSFER])
    assert "rar_provider/details/money_transfer.html" in rendered(response)  # templates/ of the demo
    assert GENERIC not in rendered(response)
    assert '<p class="amount">2,500.00 USD</p>' in html
    assert "<strong>Hanna Herwitz</strong>" in html


@pytest.mark.django_db
def test_template_named_on_the_type_wins(alice_client):
    AuthorizationDetailType.objects.filter(type="money_transfer").update(template_name=GENERIC)
    response, html = consent_html(alice_client, [MONEY_TRANSFER])
    assert "rar_provider/details/money_transfer.html" not in rendered(response)
    assert "<dt>Instructed amount</dt>" in html and "2,500.00 USD" in html


@pytest.mark.django_db
def test_generic_partial_uses_the_operators_fields_and_labels(alice_client):
    response, html = consent_html(alice_client, [PAYMENT_INITIATION])
    assert rendered(response).count(GENERIC) >= 1
    labels = ["Amount", "Pay to", "Their account", "Reference", "Allowed actions", "At"]
    positions = [html.index(f"<dt>{label}</dt>") for label in labels]
    assert positions == sorted(positions)  # the order set in admin
    assert "<dt>IBAN</dt>" in html and "DE02100100109307118603" in html  # a dotted path's label
    assert "123.50 EUR" in html
    assert "Creditor name" not in html


@pytest.mark.django_db
def test_generic_partial_without_settings_humanizes_every_field(alice_client):
    DisplayField.objects.all().delete()
    _, html = consent_html(alice_client, [PAYMENT_INITIATION])
    for label in (
        "Instructed amount",
        "Creditor name",
        "Creditor account",
        "IBAN",
        "Remittance information unstructured",
    ):
        assert f"<dt>{label}</dt>" in html, label
    assert '<ul class="values"><li>initiate</li><li>status</li></ul>' in html


@pytest.mark.django_db
def test_instruction_partial_on_the_consent_page(alice_client):
    AuthorizationDetailType.objects.create(
        resource_server=ResourceServer.objects.get(), type=PROFILE_TYPE, label="Your profile"
    )
    response, html = consent_html(alice_client, [INSTRUCTION_DETAIL])
    assert INSTRUCTION in rendered(response)
    assert "Share your profile with the app" in html
    assert (
        html.index("<dt>A String</dt>")
        < html.index("<dt>A Number</dt>")
        < html.index("<dt>Boolean for display</dt>")
    )
    assert "Value 1" in html and "100.5" in html and "An optional description" in html
    # Granted values the client marked display: false are shown too, after the others (RAR-18), in
    # a section that is open: the client cannot hide them behind a click (found by a review).
    assert '<details class="more" open>' in html
    more = html.index("More details")
    assert html.index("<dt>Boolean for display</dt>") < more
    assert more < html.index("This value should not be displayed") and more < html.index(
        "Not displayed either"
    )


@pytest.mark.django_db
def test_a_property_member_the_instruction_partial_does_not_show_gets_the_generic_partial(alice_client):
    AuthorizationDetailType.objects.create(
        resource_server=ResourceServer.objects.get(), type=PROFILE_TYPE, label="Your profile"
    )
    email = {"display": True, "name": "Email", "value": "alice@example.com", "permission": "example"}
    detail = {"type": PROFILE_TYPE, "instruction": "Share", "properties": {"email": email}}
    response, html = consent_html(alice_client, [detail])
    assert INSTRUCTION not in rendered(response)
    assert "alice@example.com" in html and "<dt>Permission</dt>" in html


@pytest.mark.django_db
def test_stored_text_is_never_template_code_or_html(alice_client):
    AuthorizationDetailType.objects.filter(type="payment_initiation").update(
        label="<b>{{ request.user.password }}</b>", description="{% now 'Y' %}<img src=x onerror=alert(1)>"
    )
    DisplayField.objects.filter(field="creditorName").update(label="{{ 7|add:1 }}<i>")
    _, html = consent_html(alice_client, [PAYMENT_INITIATION])
    assert "&lt;b&gt;{{ request.user.password }}&lt;/b&gt;" in html
    assert "{% now &#x27;Y&#x27; %}&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<dt>{{ 7|add:1 }}&lt;i&gt;</dt>" in html
    assert "<img" not in html and "pbkdf2" not in html


# -- admin: presentation without code --------------------------------------------------------------------


@pytest.fixture
def staff(db) -> Client:
    from django.contrib.auth.models import User

    browser = Client()
    browser.force_login(User.objects.get(username="admin"))
    return browser


def type_change(staff, detail_type, **changes):
    data = {
        "resource_server": str(detail_type.resource_server_id),
        "type": detail_type.type,
        "enabled": "on",
        "label": detail_type.label,
        "description": detail_type.description,
        "template_name": detail_type.template_name,
        "json_schema": json.dumps(detail_type.json_schema),
        "display_fields-TOTAL_FORMS": "0",
        "display_fields-INITIAL_FORMS": "0",
        "display_fields-MIN_NUM_FORMS": "0",
        "display_fields-MAX_NUM_FORMS": "1000",
    }
    data.update(changes)
    return staff.post(
        reverse("admin:rar_provider_authorizationdetailtype_change", args=[detail_type.pk]), data
    )


@pytest.mark.django_db
def test_operator_sets_label_description_and_fields_in_admin(staff, alice_client):
    info = AuthorizationDetailType.objects.get(type="account_information")
    response = type_change(
        staff,
        info,
        label="See your accounts",
        description="Read only: nothing can be moved.",
        **{
            "display_fields-TOTAL_FORMS": "2",
            "display_fields-0-position": "1",
            "display_fields-0-field": "actions",
            "display_fields-0-label": "What it may do",
            "display_fields-1-position": "2",
            "display_fields-1-field": "locations",
            "display_fields-1-label": "",
        },
    )
    assert response.status_code == 302, (
        response.context["adminform"].form.errors if response.context else response
    )
    detail = {
        "type": "account_information",
        "actions": ["list_accounts"],
        "locations": ["https://example.com/a"],
    }
    _, html = consent_html(alice_client, [detail])
    assert "See your accounts" in html and "Read only: nothing can be moved." in html
    assert html.index("<dt>What it may do</dt>") < html.index("<dt>Locations</dt>")


@pytest.mark.django_db
def test_admin_refuses_a_template_that_does_not_exist_or_is_unsafe(staff):
    info = AuthorizationDetailType.objects.get(type="account_information")
    for name, message in (
        ("nope/missing.html", "There is no template named"),
        ("../x.html", "Enter a template name"),
    ):
        response = type_change(staff, info, template_name=name)
        assert response.status_code == 200
        assert message in str(response.context["adminform"].form.errors["template_name"])
    ok = type_change(staff, info, template_name="rar_provider/details/generic.html")
    assert ok.status_code == 302
    info.refresh_from_db()
    assert info.template_name == "rar_provider/details/generic.html"
