"""The ``RAR_PROVIDER_RESOURCE_SERVER`` setting of a resource server, and the keys it names.

Read on every request (so ``override_settings`` works); key files are read again when their
modification time changes (a key rotation needs no restart)::

    RAR_PROVIDER_RESOURCE_SERVER = {
        "AUDIENCE": "urn:example:payments",   # required (or the class attribute)
        "ISSUER": "https://auth.example.com", # default: RAR_PROVIDER["ISSUER"]
        "JWKS": None,            # default: this project's RAR_PROVIDER["SIGNING_KEYS"]
        "DECRYPTION_KEY": None,  # for JWE APIs: the API's private key
        "REALM": None,           # default: the audience
        "LEEWAY": None,          # default: RAR_PROVIDER["JWT_LEEWAY"]
        "MAX_LIFETIME": 3600,    # seconds; a token whose exp - iat is longer is refused
        "ALGORITHMS": None,      # signature algorithms accepted; default: all of keys.SIGNING_ALGS
        "REQUIRE_ENCRYPTION": None,  # default: True when DECRYPTION_KEY is set (a JWE API)
        "REVOCATION_CHECK": None,    # None, "database" (same project) or "introspection"
        "INTROSPECTION": None,       # {"URL": ..., "CLIENT_ID": ..., "CLIENT_SECRET": ...}
        "REVOCATION_CACHE_SECONDS": 0,  # how long a "still live" answer is reused
        "DPOP_ORIGIN": None,         # this API's public scheme://host[:port] for DPoP htu (RFC 9449)
        "DPOP_NONCE_REQUIRED": False,  # RFC 9449 §9: DPoP proofs must carry this API's nonce
    }

With ``JWKS`` unset the guard verifies with every key this project publishes at ``/oauth/jwks``,
published-only keys of a rotation included (:mod:`rar_provider.keys`).
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from jwcrypto import jwk
from jwcrypto.common import JWException

from .. import keys

SETTING = "RAR_PROVIDER_RESOURCE_SERVER"
SETTING_KEYS = (
    "AUDIENCE",
    "ISSUER",
    "JWKS",
    "DECRYPTION_KEY",
    "REALM",
    "LEEWAY",
    "MAX_LIFETIME",
    "ALGORITHMS",
    "REQUIRE_ENCRYPTION",
    "REVOCATION_CHECK",
    "INTROSPECTION",
    "REVOCATION_CACHE_SECONDS",
    "DPOP_ORIGIN",
    "DPOP_NONCE_REQUIRED",
)
REVOCATION_CHECKS = (None, "database", "introspection")
#: Default ``MAX_LIFETIME``: an access token for an API lives at most this long, in seconds.
DEFAULT_MAX_LIFETIME = 3600


def resource_server_settings() -> dict[str, Any]:
    """``settings.RAR_PROVIDER_RESOURCE_SERVER``, read now (so ``override_settings`` works)."""
    value = getattr(settings, SETTING, None) or {}
    if not isinstance(value, dict):
        raise ImproperlyConfigured(f"The {SETTING} setting must be a dict.")
    unknown = sorted(set(value) - set(SETTING_KEYS))
    if unknown:
        raise ImproperlyConfigured(
            f"{SETTING} has unknown keys {', '.join(unknown)}; known: {', '.join(SETTING_KEYS)}."
        )
    return value


def _text_of(value: Any, name: str) -> str:
    """A setting given inline (dict, JSON or PEM text) or as a file path: its text."""
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    if isinstance(value, bytes):
        value = value.decode()
    if isinstance(value, str) and value.lstrip().startswith(("{", "-----")):
        return value
    if isinstance(value, str | os.PathLike):
        path = Path(value)
        try:
            return _read_file(str(path), path.stat().st_mtime_ns)
        except OSError as exc:
            raise ImproperlyConfigured(f"{SETTING}[{name!r}] names {path}, which cannot be read") from exc
    raise ImproperlyConfigured(f"{SETTING}[{name!r}] must be a dict, JSON or PEM text, or a file path")


@lru_cache(maxsize=16)
def _read_file(path: str, mtime_ns: int) -> str:
    """A key file's text, read again only when the file changes (key rotation)."""
    return Path(path).read_text()


@lru_cache(maxsize=16)
def _key_set(text: str, name: str) -> jwk.JWKSet:
    try:
        if text.lstrip().startswith("-----"):
            key_set = jwk.JWKSet()
            key_set.add(jwk.JWK.from_pem(text.encode()))
            return key_set
        data = json.loads(text)
        if isinstance(data, dict) and "keys" not in data:
            data = {"keys": [data]}  # a single JWK
        return jwk.JWKSet.from_json(json.dumps(data))
    except (JWException, ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            f"{SETTING}[{name!r}] is not a readable JWK, JWK Set or PEM: {exc}"
        ) from exc


def configured_jwks() -> jwk.JWKSet:
    """The keys that verify signatures: ``JWKS`` if set, else this server's published keys."""
    value = resource_server_settings().get("JWKS")
    if value is None:
        return keys.public_key_set()
    return _key_set(_text_of(value, "JWKS"), "JWKS")


def configured_decryption_key() -> jwk.JWK | jwk.JWKSet | None:
    """The API's private key for JWE tokens; a JWK Set (old and new keys, chosen by ``kid``) in a rotation."""
    value = resource_server_settings().get("DECRYPTION_KEY")
    if value is None:
        return None
    key_set = _key_set(_text_of(value, "DECRYPTION_KEY"), "DECRYPTION_KEY")
    if not all(key.has_private for key in key_set):
        raise ImproperlyConfigured(f"{SETTING}['DECRYPTION_KEY'] must be a private key")
    keys_ = list(key_set)
    # One key is used whatever the token's kid (a PEM key has no kid of its own).
    return keys_[0] if len(keys_) == 1 else key_set
