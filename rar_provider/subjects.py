"""Subjects (RFC 9068 §2.2 ``sub``): a user's, or a client's when it acts for itself.

The rules, which tokens, introspection and the DRF guard follow:

* a user's token has ``sub`` = the text of the user's primary key, exactly (``"1"``, never ``" 1"``
  or ``"01"``), and no ``gty`` claim;
* a client's own token (client credentials) has ``sub`` = its client_id and
  ``gty: "client_credentials"`` (:data:`rar_provider.access_tokens.CLIENT_CREDENTIALS`);
* so no one has to compare ``sub`` with ``client_id``; and so that a resource server that does
  cannot be fooled either, a client_id that reads as a user's subject (``"1"`` when user primary
  keys are numbers) is refused in admin (:func:`reads_as_user_subject`).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError


def reads_as_user_subject(value: str) -> bool:
    """True when ``value`` is exactly the ``sub`` a user of this site has or could have.

    ``"1"`` for integer primary keys (``"01"`` is not: subjects are written canonically); a UUID's
    canonical text for UUID primary keys.
    """
    field = get_user_model()._meta.pk
    try:
        return str(field.to_python(value)) == value
    except (ValidationError, ValueError, TypeError):
        return False
