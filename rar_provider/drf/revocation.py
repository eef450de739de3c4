"""Is a verified JWT still live at the authorization server? (RFC 7009 revocation, RFC 7662 §2.2)

A JWT verifies on its own until ``exp``, even after its consent is revoked or its code replayed.
An API that must honour revocation at once asks, before its view runs:

* :func:`live_in_database` — in the authorization server's own project: is the token's row there,
  unexpired (DOT deletes or expires the rows of everything revoked)?
* :func:`live_by_introspection` — anywhere else: RFC 7662 introspection with the API's own
  credentials, ``RAR_PROVIDER_RESOURCE_SERVER["INTROSPECTION"]``. No answer is
  :class:`~rar_provider.drf.tokens.RevocationCheckUnavailable` (503), never a pass.
"""

from __future__ import annotations

import hashlib

from django.core.exceptions import ImproperlyConfigured

from .config import SETTING, resource_server_settings
from .tokens import RevocationCheckUnavailable

#: Prefix of the cache keys under which a "still live" answer is reused (REVOCATION_CACHE_SECONDS).
CACHE_PREFIX = "rar_provider:token-live:"


def token_checksum(token: str) -> str:
    """SHA-256 of the token, hex: DOT's ``token_checksum`` column, and the cache key's suffix."""
    return hashlib.sha256(token.encode()).hexdigest()


def live_in_database(checksum: str) -> bool:
    """True when an unexpired access token with this checksum is stored (one query)."""
    from django.utils import timezone
    from oauth2_provider.models import get_access_token_model

    return (
        get_access_token_model().objects.filter(token_checksum=checksum, expires__gt=timezone.now()).exists()
    )


def live_by_introspection(token: str) -> bool:
    """RFC 7662 §2: ``active`` of the authorization server's answer about ``token``.

    Raises ImproperlyConfigured when ``INTROSPECTION`` lacks ``URL``, ``CLIENT_ID`` or
    ``CLIENT_SECRET``, and RevocationCheckUnavailable when the server does not answer (or answers
    something that is not JSON) within ``TIMEOUT`` seconds (default 5).
    """
    import requests

    config = resource_server_settings().get("INTROSPECTION") or {}
    if not isinstance(config, dict) or not all(config.get(k) for k in ("URL", "CLIENT_ID", "CLIENT_SECRET")):
        raise ImproperlyConfigured(
            f"{SETTING}['INTROSPECTION'] needs URL, CLIENT_ID and CLIENT_SECRET for REVOCATION_CHECK "
            "'introspection'"
        )
    try:
        response = requests.post(
            config["URL"],
            data={"token": token, "token_type_hint": "access_token"},
            auth=(config["CLIENT_ID"], config["CLIENT_SECRET"]),
            timeout=float(config.get("TIMEOUT", 5)),
        )
        response.raise_for_status()
        return response.json().get("active") is True
    except (requests.RequestException, ValueError, AttributeError) as exc:
        raise RevocationCheckUnavailable() from exc
