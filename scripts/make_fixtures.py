"""Regenerate fixtures/demo.json (the demo data DESIGN.md lists).

    DATABASE_URL=sqlite:////tmp/fixtures.sqlite3 .venv/bin/python scripts/make_fixtures.py

Run against an empty, migrated database; it writes fixtures/demo.json.
"""

import os
import sys
from pathlib import Path

import django

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demo_site.settings")
django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.core.management import call_command  # noqa: E402
from oauth2_provider.models import Application  # noqa: E402

from rar_provider.models import (  # noqa: E402
    AccessPolicy,
    AccessTokenFormat,
    AuthorizationDetailType,
    ClientGrant,
    ClientPolicy,
    ConsentPolicy,
    DisplayField,
    ResourceServer,
)

DRAFT = "https://json-schema.org/draft/2020-12/schema"
STRINGS = {"type": "array", "items": {"type": "string"}}
AMOUNT_NUMBER = {
    "type": "object",
    "required": ["amount", "currency"],
    "properties": {
        "amount": {"type": "number", "exclusiveMinimum": 0},
        "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
    },
    "additionalProperties": False,
}
AMOUNT_STRING = {
    "type": "object",
    "required": ["amount", "currency"],
    "properties": {
        "amount": {"type": "string", "pattern": r"^[0-9]+(\.[0-9]{1,2})?$"},
        "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
    },
    "additionalProperties": False,
}

MONEY_TRANSFER = {
    "$schema": DRAFT,
    "title": "Money transfer",
    "type": "object",
    "required": ["type", "instructedAmount", "sourceAccount", "destinationAccount", "beneficiary"],
    "properties": {
        "type": {"const": "money_transfer"},
        "instructedAmount": AMOUNT_NUMBER,
        "sourceAccount": {"type": "string", "minLength": 1},
        "destinationAccount": {"type": "string", "minLength": 1},
        "beneficiary": {"type": "string", "minLength": 1},
        "subject": {"type": "string"},
        "actions": STRINGS,
        "locations": STRINGS,
    },
    "additionalProperties": False,
}
PAYMENT_INITIATION = {  # RFC 9396 §2, figure 1
    "$schema": DRAFT,
    "title": "Payment initiation",
    "type": "object",
    "required": ["type", "instructedAmount", "creditorName", "creditorAccount"],
    "properties": {
        "type": {"const": "payment_initiation"},
        "actions": {"type": "array", "items": {"enum": ["initiate", "status", "cancel"]}},
        "locations": {"type": "array", "items": {"type": "string", "format": "uri"}},
        "instructedAmount": AMOUNT_STRING,
        "creditorName": {"type": "string", "minLength": 1},
        "creditorAccount": {
            "type": "object",
            "required": ["iban"],
            "properties": {"iban": {"type": "string", "pattern": "^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$"}},
            "additionalProperties": False,
        },
        "remittanceInformationUnstructured": {"type": "string"},
    },
    "additionalProperties": False,
}
ACCOUNT_INFORMATION = {  # RFC 9396 §2, figure 2
    "$schema": DRAFT,
    "title": "Account information",
    "type": "object",
    "required": ["type", "actions"],
    "properties": {
        "type": {"const": "account_information"},
        "actions": {
            "type": "array",
            "minItems": 1,
            "items": {"enum": ["list_accounts", "read_balances", "read_transactions"]},
        },
        "locations": {"type": "array", "items": {"type": "string", "format": "uri"}},
    },
    "additionalProperties": False,
}


def main() -> None:
    alice = User.objects.create_user(
        "alice", "alice@example.com", "wonderland-42", first_name="Alice", last_name="Liddell"
    )
    User.objects.create_superuser("admin", "admin@example.com", "admin-42")
    redirect = "http://127.0.0.1:8000/demo/callback/"
    Application.objects.create(
        name="Demo Bank App",
        client_id="demo-client",
        client_secret="demo-secret",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=redirect,
    )
    Application.objects.create(
        name="Demo Mobile App",
        client_id="demo-public",
        client_secret="",
        client_type=Application.CLIENT_PUBLIC,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=redirect,
    )
    service = Application.objects.create(
        name="Demo Reporting Service",
        client_id="demo-service",
        client_secret="demo-service-secret",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        redirect_uris="",
    )
    # The Payments API's own credentials: it introspects the tokens issued for it (RFC 7662 §4).
    payments_api = Application.objects.create(
        name="Payments API (resource server)",
        client_id="payments-api",
        client_secret="payments-api-secret",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        redirect_uris="",
    )
    api = ResourceServer.objects.create(
        name="Payments API",
        identifier="urn:demo:payments",
        description="Payments and account information of the demo bank.",
        user_access_policy=AccessPolicy.ALLOW_ALL,
        client_access_policy=AccessPolicy.REQUIRE_CLIENT_GRANT,
        access_token_format=AccessTokenFormat.JWT,
        # Payments: every request is consented afresh; the user may untick entries.
        consent_policy=ConsentPolicy.TRANSACTIONAL,
        allow_partial_approval=True,
        # Payments: the API refuses a revoked token at once (rar_provider.drf asks the database).
        check_revocation=True,
    )
    api.introspection_clients.add(payments_api)
    AuthorizationDetailType.objects.create(
        resource_server=api,
        type="money_transfer",
        label="Money transfer",
        description="Move money from one of your accounts to a beneficiary, once.",
        json_schema=MONEY_TRANSFER,
    )
    initiation = AuthorizationDetailType.objects.create(
        resource_server=api,
        type="payment_initiation",
        label="Payment initiation",
        description="Start a payment to a merchant (RFC 9396 example).",
        json_schema=PAYMENT_INITIATION,
    )
    info = AuthorizationDetailType.objects.create(
        resource_server=api,
        type="account_information",
        label="Account information",
        description="See your accounts, balances and transactions (RFC 9396 example).",
        json_schema=ACCOUNT_INFORMATION,
    )
    # Presentation without code: the generic partial shows these fields, in this order.
    for position, (name, label) in enumerate(
        [
            ("instructedAmount", "Amount"),
            ("creditorName", "Pay to"),
            ("creditorAccount", "Their account"),
            ("creditorAccount.iban", "IBAN"),
            ("remittanceInformationUnstructured", "Reference"),
            ("actions", "Allowed actions"),
            ("locations", "At"),
        ]
    ):
        DisplayField.objects.create(detail_type=initiation, position=position, field=name, label=label)
    policy = ClientPolicy.objects.create(application=service)
    grant = ClientGrant.objects.create(policy=policy, resource_server=api)
    grant.detail_types.add(info)
    assert alice.pk
    out = ROOT / "fixtures" / "demo.json"
    call_command(
        "dumpdata",
        "auth.user",
        "oauth2_provider.application",
        "rar_provider.resourceserver",
        "rar_provider.authorizationdetailtype",
        "rar_provider.displayfield",
        "rar_provider.clientpolicy",
        "rar_provider.clientgrant",
        indent=2,
        output=str(out),
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
