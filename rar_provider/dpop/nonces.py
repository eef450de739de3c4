"""Server-provided DPoP nonces (RFC 9449 §8, §9), stateless so that every node accepts them.

A nonce is an HMAC (Django's ``salted_hmac``, keyed with ``SECRET_KEY``) of the current time slot
of ``DPOP_NONCE_LIFETIME`` seconds and of the server that issues it, cut to 24 bytes and base64url
encoded (32 characters of ``NQCHAR``, §8.1). Nothing is stored: any node with the same
``SECRET_KEY`` checks it by recomputing the nonce of the current and of the previous slot, so a
nonce stays valid between one and two lifetimes. Without ``SECRET_KEY`` nobody can predict one
(§8: "unpredictable").

``server`` names who issued it — ``"as"`` for the authorization server, an API's identifier for a
resource server — so a nonce of one server is never accepted by another (§9).
"""

from __future__ import annotations

import hmac
import time

from django.utils.crypto import salted_hmac
from jwcrypto.common import base64url_encode

from ..conf import rar_settings

SALT = "rar_provider.dpop.nonce"
#: The name the authorization server's nonces are issued under.
AUTHORIZATION_SERVER = "as"


def _slot(now: float) -> int:
    return int(now // max(1, rar_settings.DPOP_NONCE_LIFETIME))


def _nonce_for(server: str, slot: int) -> str:
    digest = salted_hmac(SALT, f"{server}\n{slot}", algorithm="sha256").digest()
    return base64url_encode(digest[:24])


def new_nonce(server: str = AUTHORIZATION_SERVER, *, now: float | None = None) -> str:
    """The nonce ``server`` hands out now (the ``DPoP-Nonce`` response header)."""
    return _nonce_for(server, _slot(time.time() if now is None else now))


def is_valid(nonce, server: str = AUTHORIZATION_SERVER, *, now: float | None = None) -> bool:
    """Is ``nonce`` one ``server`` handed out in the current or the previous slot?"""
    if not isinstance(nonce, str) or len(nonce) != 32:
        return False
    slot = _slot(time.time() if now is None else now)
    return any(hmac.compare_digest(nonce, _nonce_for(server, s)) for s in (slot, slot - 1))
