"""Admin as an operator meets it on day one (issue 8, example 9): help texts shown as written, short
choice labels, a readable JSON Schema editor with its message beside it, plain words on the delete
page, a live preview of the consent rendering, and a client grant offering only its API's types."""

from __future__ import annotations

import json
import re
from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import User
from django.db import models
from django.test import Client
from django.urls import reverse

from rar_provider import models as rar_models
from rar_provider.details.sample import sample_detail
from rar_provider.models import AuthorizationDetailType, ClientGrant, ClientPolicy, ResourceServer

from .conftest import MONEY_TRANSFER

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff() -> Client:
    browser = Client()
    browser.force_login(User.objects.get(username="admin"))
    return browser


@pytest.fixture
def money_transfer() -> AuthorizationDetailType:
    return AuthorizationDetailType.objects.get(type="money_transfer")


def admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def preview_url(detail_type, detail=None) -> str:
    base = reverse("admin:rar_provider_authorizationdetailtype_preview", args=[detail_type.pk])
    return base if detail is None else f"{base}?{urlencode({'detail': json.dumps(detail)})}"


def field_row(html: str, name: str) -> str:
    """The admin form row of field ``name`` (its label, errors, widget and help text)."""
    start = html.index(f"field-{name}")
    end = html.find('<div class="form-row', start)
    return html[start:end]


# -- help texts and labels -------------------------------------------------------------------------------


def test_help_text_shows_the_type_placeholder_as_written(staff):
    html = staff.get(admin_url(AuthorizationDetailType, "add")).content.decode()
    assert "Empty: rar_provider/details/&lt;type&gt;.html if it exists" in html
    assert "rar_provider/details/.html" not in html


def test_choice_labels_are_short_and_explained_in_help_texts(staff):
    for model in (rar_models.AccessPolicy, rar_models.ConsentPolicy, rar_models.AccessTokenFormat):
        assert issubclass(model, models.TextChoices)
        for label in model.labels:
            assert len(str(label)) <= 22, label
    html = staff.get(admin_url(ResourceServer, "changelist")).content.decode()
    assert "Client grant required" in html and "Transactional" in html
    change = staff.get(admin_url(ResourceServer, "change", 1)).content.decode()
    assert "Client grant required: only the types the client&#x27;s grant for this API lists." in change


# -- the JSON Schema editor ------------------------------------------------------------------------------


def test_json_schema_editor_is_monospaced_pretty_printed_and_says_if_it_parses(staff, money_transfer):
    html = staff.get(admin_url(AuthorizationDetailType, "change", money_transfer.pk)).content.decode()
    row = field_row(html, "json_schema")
    textarea = re.search(r"<textarea[^>]*name=\"json_schema\"[^>]*>(.*?)</textarea>", row, re.S)
    assert textarea is not None
    assert 'class="rar-json-editor"' in textarea.group(0) and 'rows="24"' in textarea.group(0)
    assert 'spellcheck="false"' in textarea.group(0)
    text = textarea.group(1).replace("&quot;", '"')
    assert text.lstrip("\n").startswith('{\n  "')  # pretty-printed: one member a line, indented
    assert json.loads(text) == money_transfer.json_schema
    assert 'id="id_json_schema_status" aria-live="polite"' in row
    assert "rar_provider/admin/rar_admin.css" in html and "rar_provider/admin/rar_admin.js" in html


@pytest.mark.parametrize(
    ("schema_text", "message"),
    [("{not json", "Enter a valid JSON."), ('{"type": "nonsense"}', "This is not a valid JSON Schema")],
)
def test_json_schema_error_is_shown_in_the_fields_row(staff, money_transfer, schema_text, message):
    form = (
        staff.get(admin_url(AuthorizationDetailType, "change", money_transfer.pk)).context["adminform"].form
    )
    data = {name: value for name, value in form.initial.items() if value is not None and name in form.fields}
    data.update(
        {
            "json_schema": schema_text,
            "display_fields-TOTAL_FORMS": "0",
            "display_fields-INITIAL_FORMS": "0",
            "display_fields-MIN_NUM_FORMS": "0",
            "display_fields-MAX_NUM_FORMS": "1000",
        }
    )
    response = staff.post(admin_url(AuthorizationDetailType, "change", money_transfer.pk), data)
    assert response.status_code == 200
    row = field_row(response.content.decode(), "json_schema")
    assert "errorlist" in row and message in row  # beside the editor, not only at the top
    assert 'name="json_schema"' in row


# -- delete page -----------------------------------------------------------------------------------------


def test_delete_page_names_the_grants_types_in_plain_words(staff):
    policy = ClientPolicy.objects.get(application__client_id="demo-service")
    html = staff.get(admin_url(ClientPolicy, "delete", policy.pk)).content.decode()
    assert "Type allowed to a client: Demo Reporting Service may request account_information" in html
    assert "relationship" not in html and "ClientGrant_detail_types object" not in html


# -- live preview ----------------------------------------------------------------------------------------


def test_type_page_embeds_a_live_preview_of_a_sample_built_from_the_schema(staff, money_transfer):
    html = staff.get(admin_url(AuthorizationDetailType, "change", money_transfer.pk)).content.decode()
    assert "Preview of the consent page" in html
    frame = re.search(r'<iframe id="rar-preview-frame" title="Consent page preview" src="([^"]+)"', html)
    assert frame is not None
    assert 'id="rar-preview-sample"' in html  # the sample the operator edits
    page = staff.get(frame.group(1).replace("&amp;", "&"))
    assert page.status_code == 200 and page["X-Frame-Options"] == "SAMEORIGIN"
    assert page.context["problems"] == []  # the sample from the schema is valid
    assert "rar_provider/details/money_transfer.html" in [t.name for t in page.templates]


def test_preview_renders_the_operators_sample_with_the_users_partial(staff, money_transfer):
    page = staff.get(preview_url(money_transfer, MONEY_TRANSFER))
    html = page.content.decode()
    assert page.status_code == 200
    assert "2,500.00 USD" in html and "Hanna Herwitz" in html and "xxxxxxxxxxx1234" in html
    assert "rar_provider/base.html" in [t.name for t in page.templates]  # the project's branding too


def test_preview_uses_the_operators_display_fields_for_the_generic_partial(staff):
    account_information = AuthorizationDetailType.objects.get(type="account_information")
    account_information.display_fields.create(position=1, field="actions", label="What it may do")
    page = staff.get(preview_url(account_information, {"type": "account_information", "actions": ["list_x"]}))
    assert "rar_provider/details/generic.html" in [t.name for t in page.templates]
    html = page.content.decode()
    assert "What it may do" in html and "list_x" in html and "Account information" in html


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("{oops", "The sample is not valid JSON"),
        ("[1, 2]", "An entry is a JSON object"),
        (json.dumps({**MONEY_TRANSFER, "type": "other"}), 'The entry\'s type must be "money_transfer"'),
        (json.dumps({**MONEY_TRANSFER, "beneficiary": 7}), "A request with this entry would be refused"),
    ],
)
def test_preview_says_what_a_request_would_meet(staff, money_transfer, raw, problem):
    base = reverse("admin:rar_provider_authorizationdetailtype_preview", args=[money_transfer.pk])
    page = staff.get(base, {"detail": raw})
    assert page.status_code == 200
    assert any(problem in str(p) for p in page.context["problems"]), page.context["problems"]
    assert 'role="alert"' in page.content.decode()


def test_preview_escapes_what_the_operator_types(staff, money_transfer):
    html = staff.get(preview_url(money_transfer, {**MONEY_TRANSFER, "beneficiary": "<script>x()</script>"}))
    assert "&lt;script&gt;x()&lt;/script&gt;" in html.content.decode()
    assert "<script>x()" not in html.content.decode()


def test_preview_needs_a_staff_user(client, alice, money_transfer):
    assert client.get(preview_url(money_transfer))["Location"].startswith("/admin/login/")
    client.force_login(alice)
    assert client.get(preview_url(money_transfer))["Location"].startswith("/admin/login/")
    staff = Client()
    staff.force_login(User.objects.get(username="admin"))
    missing = reverse("admin:rar_provider_authorizationdetailtype_preview", args=[999999])
    assert staff.get(missing).status_code == 404


def test_sample_detail_reads_like_data():
    schema = AuthorizationDetailType.objects.get(type="money_transfer").json_schema
    sample = sample_detail("money_transfer", schema)
    assert sample["type"] == "money_transfer"
    assert sample["instructedAmount"] == {"amount": 100, "currency": "EUR"}
    assert sample_detail("t", {}) == {"type": "t"}
    assert sample_detail("t", {"properties": {"n": {"type": "integer", "minimum": 5, "maximum": 9}}}) == {
        "type": "t",
        "n": 9,
    }
    assert (
        sample_detail("t", {"properties": {"d": {"type": "string", "format": "date"}}})["d"] == "2026-01-31"
    )


# -- the client grant's types ----------------------------------------------------------------------------


def test_client_grant_offers_only_its_apis_types(staff):
    other = ResourceServer.objects.create(name="Notes API", identifier="urn:test:notes")
    AuthorizationDetailType.objects.create(resource_server=other, type="note", json_schema={})
    policy = ClientPolicy.objects.get(application__client_id="demo-service")
    html = staff.get(admin_url(ClientPolicy, "change", policy.pk)).content.decode()
    saved_row = html[html.index('id="grants-0"') : html.index('id="grants-empty"')]
    assert "account_information (Payments API)" in saved_row and "note (Notes API)" not in saved_row
    assert 'name="grants-0-detail_types"' in saved_row
    # A new grant row lists every type, each tagged with its API; the script shows the chosen API's.
    empty_row = html[html.index('id="grants-empty"') :]
    assert re.search(rf'data-api="{other.pk}"[^>]*>\s*note \(Notes API\)', empty_row)


def test_client_grant_still_refuses_another_apis_type_without_the_script(staff):
    other = ResourceServer.objects.create(name="Notes API", identifier="urn:test:notes")
    note = AuthorizationDetailType.objects.create(resource_server=other, type="note", json_schema={})
    policy = ClientPolicy.objects.get(application__client_id="demo-service")
    grant = ClientGrant.objects.get(policy=policy)
    data = {
        "application": policy.application_id,
        "grants-TOTAL_FORMS": "1",
        "grants-INITIAL_FORMS": "1",
        "grants-MIN_NUM_FORMS": "0",
        "grants-MAX_NUM_FORMS": "1000",
        "grants-0-id": grant.pk,
        "grants-0-policy": policy.pk,
        "grants-0-resource_server": grant.resource_server_id,
        "grants-0-detail_types": [note.pk],
    }
    response = staff.post(admin_url(ClientPolicy, "change", policy.pk), data)
    assert response.status_code == 200
    assert "note" not in [t.type for t in grant.detail_types.all()]
