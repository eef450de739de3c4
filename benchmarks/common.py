"""What every benchmark sends: the demo client, its redirect URI, one `money_transfer` detail, PKCE,
and a small HTML form reader for the login and consent pages."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass, field
from html.parser import HTMLParser

CLIENT_ID, CLIENT_SECRET = "demo-client", "demo-secret"
#: The resource server client of the demo's Payments API: it introspects the access tokens.
INTROSPECTOR = ("payments-api", "payments-api-secret")
USERNAME, PASSWORD = "alice", "wonderland-42"
REDIRECT_URI = "http://127.0.0.1:8000/demo/callback/"
#: 250 USD: under the demo consent hook's 1,000 limit, so no password step-up on the way
#: (the hook still runs). Same shape as fixtures/demo.json's money_transfer type.
MONEY_TRANSFER = {
    "type": "money_transfer",
    "instructedAmount": {"amount": 250, "currency": "USD"},
    "sourceAccount": "xxxxxxxxxxx1234",
    "destinationAccount": "xxxxxxxxxxx9876",
    "beneficiary": "Hanna Herwitz",
    "subject": "A Lannister Always Pays His Debts",
}
DETAILS = json.dumps([MONEY_TRANSFER])


def pkce_pair() -> tuple[str, str]:
    """(code_verifier, S256 code_challenge), RFC 7636 §4.1-4.2."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def par_params(challenge: str) -> dict[str, str]:
    """The body of a pushed authorization request (RFC 9126 §2.1) with one money_transfer."""
    return {
        "client_id": CLIENT_ID,
        "response_type": "code",
        "redirect_uri": REDIRECT_URI,
        "state": secrets.token_urlsafe(8),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "authorization_details": DETAILS,
    }


@dataclass
class Form:
    """The first POST form of a page: its action ('' = this URL) and the fields a browser sends."""

    action: str = ""
    fields: dict[str, str] = field(default_factory=dict)
    buttons: list[tuple[str, str]] = field(default_factory=list)

    def submission(self, **values: str) -> dict[str, str]:
        """The fields, ``values`` filled in, and the approving button pressed (the first named
        submit button valued or named ``allow``, else the first named one)."""
        data = {**self.fields, **values}
        pressed = [b for b in self.buttons if "allow" in b] or self.buttons[:1]
        data.update(pressed)
        return data


class _FormReader(HTMLParser):
    def __init__(self):
        super().__init__()
        self.forms: list[Form] = []
        self.form: Form | None = None  # the one open now

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and a.get("method", "").lower() == "post":
            self.form = Form(action=a.get("action", ""))
            self.forms.append(self.form)
        elif self.form is None or not a.get("name"):
            return
        elif tag == "input" and a.get("type", "text") in ("hidden", "text", "password"):
            self.form.fields[a["name"]] = a.get("value", "")
        elif tag == "input" and a.get("type") == "checkbox" and "checked" in a:
            self.form.fields[a["name"]] = a.get("value", "on")
        elif (tag == "button" and a.get("type", "submit") == "submit") or (
            tag == "input" and a.get("type") == "submit"
        ):
            self.form.buttons.append((a["name"], a.get("value", "")))

    def handle_endtag(self, tag):
        if tag == "form":
            self.form = None


def read_form(html: str) -> Form | None:
    """The main ``<form method="post">`` of ``html`` (the one with the most fields: not the header's
    log-out form), or None."""
    reader = _FormReader()
    reader.feed(html)
    return max(reader.forms, key=lambda form: len(form.fields) + len(form.buttons), default=None)
