"""The server's signing keys for JWT access tokens, and the JWK Set it publishes.

RFC 9068 §4: a resource server validates a JWT access token with the keys the
authorization server publishes at ``jwks_uri`` (RFC 8414 §2, RFC 7517 §5).
Keys come from ``RAR_PROVIDER["SIGNING_KEYS"]``, either

* a list of entries, oldest first, each a private JWK (a dict, or its JSON
  text) or a PEM private key (text), optionally as ``{"kid": ..., "pem": ...}``;
* or the path of a JWK Set file (``{"keys": [...]}``, oldest first), as the
  ``rar_generate_key`` command writes it.

Every key is published, so tokens signed before a rotation still verify; the newest key not
marked ``"use_for_signing": false`` (*published only*: known everywhere before it signs, the first
step of a rotation, :mod:`rar_provider.key_rotation`) signs. ``"signed_until"`` records when a key
stopped signing. Neither member is part of the key or ever published. The algorithm is the key's
``alg``, else RS256 for RSA (RFC 9068 §4), ES256/384/512 for EC P-256/384/521, EdDSA for Ed25519.
A key with no ``kid`` gets its RFC 7638 thumbprint.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from jwcrypto import jwk

from .conf import rar_settings

_DEFAULT_ALGS = {("EC", "P-256"): "ES256", ("EC", "P-384"): "ES384", ("EC", "P-521"): "ES512"}
#: The signing algorithms a key may declare (no "none", no HMAC: the key is published).
SIGNING_ALGS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
#: Entry members that tell this server how to use a key; never part of the key, never published.
USE_FOR_SIGNING = "use_for_signing"  # false: published only (verifies, never signs)
SIGNED_UNTIL = "signed_until"  # Unix seconds: when this key stopped signing (rar_provider.key_rotation)
ENTRY_OPTIONS = (USE_FOR_SIGNING, SIGNED_UNTIL)


@dataclass(frozen=True)
class SigningKey:
    """One configured key: ``kid``, the one algorithm it signs with, the private JWK, and its
    state (``use_for_signing`` False: published only; ``signed_until``: when it stopped, if known)."""

    kid: str
    alg: str
    key: jwk.JWK
    use_for_signing: bool = True
    signed_until: int | None = None

    def public_jwk(self) -> dict[str, Any]:
        data = self.key.export_public(as_dict=True)
        # A private key's key_ops (["sign"]) would make verifiers refuse the public key.
        data.pop("key_ops", None)
        data.update(kid=self.kid, alg=self.alg, use="sig")
        return data


def default_alg(key: jwk.JWK) -> str:
    kty = key.get("kty")
    if kty == "RSA":
        return "RS256"
    if kty == "OKP" and key.get("crv") == "Ed25519":
        return "EdDSA"
    alg = _DEFAULT_ALGS.get((kty, key.get("crv")))
    if alg is None:
        raise ImproperlyConfigured(f"no signing algorithm for a {kty} {key.get('crv', '')} key")
    return alg


def _algs_for(key: jwk.JWK) -> tuple[str, ...]:
    """The signing algorithms a key can be used with (RFC 7518 §3, RFC 8037 §3.1)."""
    kty, crv = key.get("kty"), key.get("crv")
    if kty == "RSA":
        return ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
    if kty == "EC":
        return tuple(alg for (_, curve), alg in _DEFAULT_ALGS.items() if curve == crv)
    if kty == "OKP" and crv in ("Ed25519", "Ed448"):
        return ("EdDSA",)
    return ()


def algorithms_for(key: jwk.JWK) -> tuple[str, ...]:
    """RFC 8725 §3.1: the one algorithm a verification key is pinned to.

    The key's own ``alg`` member (RFC 7517 §4.4) when it has one, else the default algorithm of its
    type (RS256 for RSA, ES256 for P-256, EdDSA for Ed25519); empty for a key that signs nothing.
    """
    if key.get("alg"):
        return (key.get("alg"),)
    try:
        return (default_alg(key),)
    except ImproperlyConfigured:
        return ()


def _split_options(entry: dict, where: str) -> tuple[dict, dict[str, Any]]:
    """(the entry without :data:`ENTRY_OPTIONS`, the options, checked)."""
    options = {name: entry[name] for name in ENTRY_OPTIONS if name in entry}
    use = options.get(USE_FOR_SIGNING, True)
    if not isinstance(use, bool):
        raise ImproperlyConfigured(f"{where} has {USE_FOR_SIGNING} {use!r}: true or false")
    until = options.get(SIGNED_UNTIL)
    if until is not None and (isinstance(until, bool) or not isinstance(until, int) or until < 0):
        raise ImproperlyConfigured(f"{where} has {SIGNED_UNTIL} {until!r}: Unix seconds (a whole number)")
    return {k: v for k, v in entry.items() if k not in ENTRY_OPTIONS}, options


def load_signing_key(entry: Any, position: int = 0) -> SigningKey:
    """One ``SIGNING_KEYS`` entry as a :class:`SigningKey`; ImproperlyConfigured names what is wrong."""
    where = f"RAR_PROVIDER['SIGNING_KEYS'][{position}]"
    kid = alg = None
    options: dict[str, Any] = {}
    try:
        if isinstance(entry, bytes):
            entry = entry.decode()
        if isinstance(entry, str) and entry.lstrip().startswith("{"):
            entry = json.loads(entry)  # a JWK as JSON text: its members, options included
        if isinstance(entry, dict):
            entry, options = _split_options(entry, where)
            if "pem" in entry:
                kid, alg = entry.get("kid"), entry.get("alg")
                key = jwk.JWK.from_pem(str(entry["pem"]).encode())
            else:
                key = jwk.JWK(**entry)
        elif isinstance(entry, str):
            key = jwk.JWK.from_pem(entry.encode())
        else:
            raise ImproperlyConfigured(f"{where} must be a JWK dict, JWK JSON or a PEM text")
    except ImproperlyConfigured:
        raise
    except Exception as exc:  # jwcrypto raises several types for unreadable keys
        raise ImproperlyConfigured(f"{where} is not a readable key: {exc}") from exc
    if key.get("kty") == "oct":
        raise ImproperlyConfigured(f"{where} is a symmetric key; publishable (RSA, EC, Ed25519) keys only")
    if not key.has_private:
        raise ImproperlyConfigured(f"{where} is a public key; a signing key must be private")
    try:
        alg = alg or key.get("alg") or default_alg(key)
    except ImproperlyConfigured as exc:
        raise ImproperlyConfigured(f"{where}: {exc}") from exc
    if alg not in SIGNING_ALGS:
        raise ImproperlyConfigured(f"{where} has alg {alg!r}, not one of {', '.join(SIGNING_ALGS)}")
    if alg not in _algs_for(key):
        # e.g. an RSA key declaring ES256 would only fail when the first token is signed.
        raise ImproperlyConfigured(
            f"{where} has alg {alg!r}, which does not fit its {key.get('kty')} {key.get('crv', '')} key"
        )
    kid = kid or key.get("kid") or key.thumbprint()
    return SigningKey(
        kid=str(kid),
        alg=alg,
        key=key,
        use_for_signing=options.get(USE_FOR_SIGNING, True),
        signed_until=options.get(SIGNED_UNTIL),
    )


def is_inline_key(value: Any) -> bool:
    """A JWK (JSON text) or a PEM key given inline, rather than a file path."""
    if isinstance(value, bytes):
        value = value.decode(errors="replace")
    return isinstance(value, str) and value.lstrip().startswith(("{", "-----"))


def looks_like_path(value: Any) -> bool:
    """``SIGNING_KEYS`` as a file: a path object, or text with a ``/`` or ending in ``.json``.

    Anything else (``"not-a-key"``) is neither a key nor a path and is refused,
    instead of being taken as a file that does not exist yet.
    """
    if isinstance(value, os.PathLike):
        return True
    return (
        isinstance(value, str)
        and not is_inline_key(value)
        and ("/" in value or os.sep in value or value.strip().endswith(".json"))
    )


def _entries(value: Any) -> list[Any]:
    if isinstance(value, str | bytes) and not is_inline_key(value) and not looks_like_path(value):
        raise ImproperlyConfigured(
            f"RAR_PROVIDER['SIGNING_KEYS'] is {value!r}: neither a list of keys nor the path of a JWK Set "
            "file (a path with a / or ending in .json, as rar_generate_key --jwks-file writes it)"
        )
    if looks_like_path(value):
        path = Path(value)
        try:
            data = json.loads(path.read_text())
        except OSError as exc:
            raise ImproperlyConfigured(
                f"RAR_PROVIDER['SIGNING_KEYS'] names {path}, which cannot be read ({exc.strerror}); "
                "create it with: manage.py rar_generate_key --jwks-file " + str(path)
            ) from exc
        except ValueError as exc:
            raise ImproperlyConfigured(f"{path} is not a JWK Set (invalid JSON: {exc})") from exc
        if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
            raise ImproperlyConfigured(f'{path} is not a JWK Set: expected {{"keys": [...]}}')
        return data["keys"]
    if isinstance(value, list | tuple):
        return list(value)
    raise ImproperlyConfigured("RAR_PROVIDER['SIGNING_KEYS'] must be a list of keys or a JWK Set file path")


#: (marker, keys) in one value, so a thread never pairs a new marker with the old keys.
_cache: dict[str, tuple] = {"loaded": (None, ())}


def _marker(value: Any) -> tuple:
    if isinstance(value, str | os.PathLike) and Path(value).is_file():
        stat = Path(value).stat()
        return (str(value), stat.st_mtime_ns, stat.st_size)
    return (json.dumps(value, sort_keys=True, default=str),)


def signing_keys() -> tuple[SigningKey, ...]:
    """All configured keys, oldest first (parsed once per settings value / file version)."""
    value = rar_settings.SIGNING_KEYS
    if not value:
        return ()
    marker = _marker(value)
    loaded_marker, loaded_keys = _cache["loaded"]
    if loaded_marker != marker:
        keys = tuple(load_signing_key(entry, i) for i, entry in enumerate(_entries(value)))
        kids = [key.kid for key in keys]
        duplicates = sorted({kid for kid in kids if kids.count(kid) > 1})
        if duplicates:
            raise ImproperlyConfigured(f"RAR_PROVIDER['SIGNING_KEYS'] repeats kid {', '.join(duplicates)}")
        _cache["loaded"] = (marker, keys)
        return keys
    return loaded_keys


def current_signing_key() -> SigningKey:
    """The key that signs: the newest one not published only (RFC 7517 §4.5: its ``kid`` goes in
    the JWS header). It is always in :func:`public_jwks`, which publishes every key."""
    keys = signing_keys()
    if not keys:
        raise ImproperlyConfigured(
            "An API issues JWT access tokens but RAR_PROVIDER['SIGNING_KEYS'] is empty; "
            "generate a key with: manage.py rar_generate_key"
        )
    signers = [key for key in keys if key.use_for_signing]
    if not signers:
        raise ImproperlyConfigured(no_signer_message(keys))
    return signers[-1]


def no_signer_message(keys: tuple[SigningKey, ...]) -> str:
    """What to say (and do) when every configured key is published only."""
    return (
        f"Every key in RAR_PROVIDER['SIGNING_KEYS'] is published only ({USE_FOR_SIGNING}: false): "
        f"none signs. Promote one with: manage.py rar_signing_keys promote --kid={keys[-1].kid}"
    )


def public_jwks() -> dict[str, list[dict[str, Any]]]:
    """RFC 7517 §5: the JWK Set of public keys, as served at ``jwks_uri``: every configured key
    (the signing key, published-only keys, older keys), oldest first."""
    return {"keys": [key.public_jwk() for key in signing_keys()]}


def public_key_set() -> jwk.JWKSet:
    """The published keys as a jwcrypto ``JWKSet`` (for verifying tokens in this process)."""
    return jwk.JWKSet.from_json(json.dumps(public_jwks()))


def generate_signing_key(kty: str = "RSA", size: int = 2048, crv: str = "P-256") -> dict[str, Any]:
    """A new private JWK with ``kid`` (RFC 7638 thumbprint) and ``alg``, as a dict."""
    if kty == "RSA":
        key = jwk.JWK.generate(kty="RSA", size=size)
    elif kty == "EC":
        key = jwk.JWK.generate(kty="EC", crv=crv)
    elif kty == "OKP":
        key = jwk.JWK.generate(kty="OKP", crv="Ed25519")
    else:
        raise ValueError(f"unsupported key type {kty!r}")
    data = key.export_private(as_dict=True)
    data.update(kid=key.thumbprint(), alg=default_alg(key), use="sig")
    return data
