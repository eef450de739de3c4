"""A client's registered public keys (a JWK Set, RFC 7517 §5), entered in admin on its client policy.

They verify its client assertions (``private_key_jwt``, RFC 7523 §2.2) and its signed request
objects (RFC 9101). The server never fetches keys (no ``jwks_uri``): what is registered is all it
trusts. :func:`parse_client_jwks` accepts only

- a JSON object ``{"keys": [...]}`` with 1 to :data:`MAX_KEYS` keys;
- public keys: RSA (at least 2048 bits), EC (P-256, P-384, P-521) or OKP (Ed25519, Ed448); a
  private member (``d``, ``p``, ``q``, ``dp``, ``dq``, ``qi``, ``oth``) or a symmetric key (``oct``) is
  refused, since a private key in the database would let anyone who reads it sign as the client;
- each with a unique ``kid`` and an ``alg`` that fits the key (RFC 7518 §3.1, RFC 8037 §3.1) and
  is one of ``allowed`` (the algorithms the server accepts); ``use``, if present, ``sig``;
  ``key_ops``, if present, including ``verify``.

Errors are :class:`ClientKeysError` whose message names the key and the rule.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from jwcrypto import jwk
from jwcrypto.common import JWException

#: Every asymmetric signature algorithm a client key may declare, and the key it needs:
#: (kty, curves or None). RFC 7518 §3.1; EdDSA: RFC 8037 §3.1.
KEY_TYPES: dict[str, tuple[str, tuple[str, ...] | None]] = {
    "RS256": ("RSA", None),
    "RS384": ("RSA", None),
    "RS512": ("RSA", None),
    "PS256": ("RSA", None),
    "PS384": ("RSA", None),
    "PS512": ("RSA", None),
    "ES256": ("EC", ("P-256",)),
    "ES384": ("EC", ("P-384",)),
    "ES512": ("EC", ("P-521",)),
    "EdDSA": ("OKP", ("Ed25519", "Ed448")),
}
#: The algorithms a setting may allow: asymmetric signatures only (never "none", never HMAC).
SUPPORTED_ALGS = tuple(KEY_TYPES)
PRIVATE_MEMBERS = ("d", "p", "q", "dp", "dq", "qi", "oth", "k")
MAX_KEYS = 10
MIN_RSA_BITS = 2048


class ClientKeysError(ValueError):
    """The registered JWK Set cannot be used; the message says which key and why."""


@dataclass(frozen=True)
class ClientKey:
    """One registered public key: its ``kid``, the one ``alg`` it verifies, the JWK."""

    kid: str
    alg: str
    key: jwk.JWK


def _rsa_bits(data: dict[str, Any]) -> int:
    from jwcrypto.common import base64url_decode

    try:
        modulus = base64url_decode(data["n"])
    except (KeyError, TypeError, ValueError):
        return 0
    return len(modulus.lstrip(b"\0")) * 8


def _key(data: Any, position: int, allowed: frozenset[str]) -> ClientKey:
    where = f"key {position + 1}"
    if not isinstance(data, dict):
        raise ClientKeysError(f"{where} is not a JSON object.")
    kid = data.get("kid")
    if isinstance(kid, str) and kid:
        where = f"key {kid!r}"
    kty = data.get("kty")
    if kty == "oct":
        raise ClientKeysError(f"{where} is a symmetric (oct) key; register public keys only.")
    private = [member for member in PRIVATE_MEMBERS if member in data]
    if private:
        raise ClientKeysError(
            f"{where} has private members ({', '.join(private)}): register the public key only, "
            "never the private key."
        )
    if not isinstance(kid, str) or not kid:
        raise ClientKeysError(f"{where} has no kid; every key needs one (RFC 7517 §4.5).")
    alg = data.get("alg")
    if alg not in KEY_TYPES:
        raise ClientKeysError(
            f"{where} has alg {alg!r}; it must be one of {', '.join(sorted(allowed))} "
            "(an asymmetric signature algorithm; never none or HMAC)."
        )
    if alg not in allowed:
        raise ClientKeysError(
            f"{where} has alg {alg}, which this server does not accept; "
            f"allowed: {', '.join(sorted(allowed))}."
        )
    wanted_kty, curves = KEY_TYPES[alg]
    if kty != wanted_kty:
        raise ClientKeysError(f"{where}: alg {alg} needs a {wanted_kty} key, not kty {kty!r}.")
    if curves is not None and data.get("crv") not in curves:
        raise ClientKeysError(
            f"{where}: alg {alg} needs curve {' or '.join(curves)}, not {data.get('crv')!r}."
        )
    if kty == "RSA" and _rsa_bits(data) < MIN_RSA_BITS:
        raise ClientKeysError(f"{where}: an RSA key must have at least {MIN_RSA_BITS} bits.")
    if data.get("use", "sig") != "sig":
        raise ClientKeysError(f"{where} has use {data.get('use')!r}; a signature key has use 'sig'.")
    key_ops = data.get("key_ops")
    if key_ops is not None and (not isinstance(key_ops, list) or "verify" not in key_ops):
        raise ClientKeysError(f"{where} has key_ops {key_ops!r}, without 'verify'.")
    try:
        key = jwk.JWK(**data)
        key.get_op_key("verify")  # loads the key: an EC point off its curve is refused here
    except (JWException, ValueError, TypeError) as exc:
        raise ClientKeysError(f"{where} is not a valid {kty} key: {exc}") from None
    if key.has_private:
        raise ClientKeysError(f"{where} is a private key; register the public key only.")
    return ClientKey(kid=kid, alg=alg, key=key)


def parse_client_jwks(text: str | dict, allowed: Iterable[str] = SUPPORTED_ALGS) -> tuple[ClientKey, ...]:
    """The keys of a JWK Set (JSON text or a dict), checked as the module docstring says.

    ``allowed``: the algorithms a key may declare. Raises :class:`ClientKeysError`.
    """
    allowed = frozenset(allowed)
    if isinstance(text, str):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ClientKeysError(f"The JWK Set is not JSON: {exc}") from None
    else:
        data = text
    if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
        raise ClientKeysError('A JWK Set is a JSON object {"keys": [...]} (RFC 7517 §5).')
    entries = data["keys"]
    if not entries:
        raise ClientKeysError("The JWK Set has no keys.")
    if len(entries) > MAX_KEYS:
        raise ClientKeysError(f"The JWK Set has {len(entries)} keys; at most {MAX_KEYS} are accepted.")
    keys = tuple(_key(entry, position, allowed) for position, entry in enumerate(entries))
    kids = [key.kid for key in keys]
    repeated = sorted({kid for kid in kids if kids.count(kid) > 1})
    if repeated:
        raise ClientKeysError(f"kid {repeated[0]!r} is used by more than one key.")
    return keys


def select_key(keys: tuple[ClientKey, ...], kid: Any, alg: str) -> ClientKey:
    """The key named by the JWS header's ``kid``, or the only key when there is no ``kid``.

    RFC 7515 §4.1.4 / RFC 8725 §3.1: the key's registered ``alg`` must be the header's ``alg``.
    Raises :class:`ClientKeysError` naming what did not match.
    """
    if kid is None:
        if len(keys) != 1:
            raise ClientKeysError(
                f"the JWS header has no kid and the client has {len(keys)} registered keys: send kid."
            )
        key = keys[0]
    else:
        if not isinstance(kid, str):
            raise ClientKeysError("the JWS header's kid is not a string.")
        key = next((key for key in keys if key.kid == kid), None)
        if key is None:
            raise ClientKeysError(f"kid {kid[:80]!r} is not one of the client's registered keys.")
    if key.alg != alg:
        raise ClientKeysError(f"key {key.kid!r} is registered for {key.alg}, and the JWS says alg {alg}.")
    return key
