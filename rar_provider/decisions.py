"""A consent decision is made once (RFC 6749 §10.5 / RFC 9700 §4.5 spirit: one approval, one code).

Each consent page signs a fresh random decision id into its transaction; the
first POST of that page records the id's hash (a unique row), and a second
POST of the same page — a double submit, a back-button re-POST, a replay —
is refused before anything is issued. A reload renders a new page with a new
id, so a user who has not decided yet can always start over.
"""

from __future__ import annotations

import secrets

from django.db import IntegrityError, transaction

from .models import ConsentDecision, sha256_hex


def new_decision_id() -> str:
    """A random id for one rendered consent page (128 bits)."""
    return secrets.token_urlsafe(16)


def decide(decision_id: str) -> bool:
    """Record the decision; ``False`` if this page was already decided (then nothing is issued)."""
    try:
        with transaction.atomic():
            ConsentDecision.objects.create(decision_hash=sha256_hex(decision_id))
    except IntegrityError:
        return False
    return True
