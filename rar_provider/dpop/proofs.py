"""Checking one DPoP proof (RFC 9449 §4.3) and naming the key it proves: its JWK thumbprint.

A DPoP proof is the value of the ``DPoP`` request header: one compact JWS whose header carries
``typ: dpop+jwt``, an asymmetric ``alg`` from the allow-list and the public ``jwk`` that verifies
it, and whose claims bind it to one HTTP request (``htm``, ``htu``), one moment (``iat``), one use
(``jti``), a server nonce when one is required (§8, §9) and, at a resource server, the access token
it accompanies (``ath``, §4.2). :func:`verify_proof` checks all of it, in that order, before any
state is touched; the ``jti`` is then remembered in Django's cache for as long as the proof could
be accepted (``cache.add``: with a shared cache such as Redis a proof is used once cluster-wide).

The key's RFC 7638 SHA-256 thumbprint (``jkt``) is what tokens and codes are bound to (§6.1, §10).
Nothing here touches the database: a resource server in another project uses it as it is.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from jwcrypto import jwk, jws
from jwcrypto.common import base64url_decode, base64url_encode

from ..conf import rar_settings
from . import nonces

PROOF_TYPE = "dpop+jwt"  # RFC 9449 §4.2
#: Asymmetric JWS algorithms (RFC 7518 §3, RFC 8037) and the key each needs: (kty, crv or None).
KEY_TYPES: dict[str, tuple[str, str | None]] = {
    "ES256": ("EC", "P-256"),
    "ES384": ("EC", "P-384"),
    "ES512": ("EC", "P-521"),
    "PS256": ("RSA", None),
    "PS384": ("RSA", None),
    "PS512": ("RSA", None),
    "RS256": ("RSA", None),
    "RS384": ("RSA", None),
    "RS512": ("RSA", None),
    "EdDSA": ("OKP", None),
}
#: JWK members that belong to a private or symmetric key (RFC 7518 §6): never in a proof (§4.3).
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
#: Longest ``DPoP`` header read, in characters (an RSA-4096 proof is under 2,000).
MAX_PROOF_LENGTH = 8192
#: Longest ``jti`` accepted (§11.1: a server may refuse overly large ones; only its hash is stored).
MAX_JTI_LENGTH = 256
MIN_RSA_BITS = 2048
CACHE_PREFIX = "rar_provider:dpop-jti:"
_COMPACT_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_PERCENT = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
_DEFAULT_PORTS = {"http": 80, "https": 443}


class DPoPProblem(Exception):
    """``invalid_dpop_proof`` (RFC 9449 §5, §7.1): the description says which check failed."""

    error = "invalid_dpop_proof"

    def __init__(self, description: str, nonce: str | None = None):
        super().__init__(description)
        self.description = description
        #: A fresh server nonce to send back in ``DPoP-Nonce`` (set with :class:`UseDPoPNonce`).
        self.nonce = nonce


class UseDPoPNonce(DPoPProblem):
    """``use_dpop_nonce`` (RFC 9449 §8, §9): the proof lacks the server's current nonce."""

    error = "use_dpop_nonce"


@dataclass(frozen=True)
class VerifiedProof:
    """A proof that passed every check: ``jkt`` is its key's RFC 7638 SHA-256 thumbprint."""

    jkt: str
    jti: str
    htm: str
    htu: str
    claims: dict[str, Any] = field(repr=False)


def configured_algorithms() -> tuple[str, ...]:
    """``RAR_PROVIDER["DPOP_SIGNING_ALGS"]``, checked: asymmetric algorithms only (RFC 9449 §11.6)."""
    algorithms = rar_settings.DPOP_SIGNING_ALGS
    if isinstance(algorithms, str) or not isinstance(algorithms, list | tuple) or not algorithms:
        raise ImproperlyConfigured("RAR_PROVIDER['DPOP_SIGNING_ALGS'] must be a non-empty list of names.")
    unknown = [alg for alg in algorithms if alg not in KEY_TYPES]
    if unknown:
        raise ImproperlyConfigured(
            f"RAR_PROVIDER['DPOP_SIGNING_ALGS'] has {unknown!r}: only asymmetric algorithms "
            f"({', '.join(KEY_TYPES)}) may sign DPoP proofs; never none or HS* (RFC 9449 §11.6)."
        )
    return tuple(algorithms)


def access_token_hash(access_token: str) -> str:
    """RFC 9449 §4.2 ``ath``: base64url of the SHA-256 of the token's ASCII bytes, no padding."""
    return base64url_encode(hashlib.sha256(access_token.encode("ascii", "replace")).digest())


def normalized_uri(uri: str) -> tuple[str, str, int, str] | None:
    """``(scheme, host, port, path)`` of an http(s) URI, as RFC 3986 §6.2.2–§6.2.3 normalize them;
    query and fragment are dropped (RFC 9449 §4.3). ``None`` when it is not such a URI."""
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname or parts.username is not None:
        return None

    def unescape(match: re.Match[str]) -> str:
        char = chr(int(match.group(1), 16))
        return char if char in _UNRESERVED else "%" + match.group(1).upper()

    path = _PERCENT.sub(unescape, parts.path or "/")
    return scheme, parts.hostname.lower(), port or _DEFAULT_PORTS[scheme], path


def _echo(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _header_of(value: str) -> dict[str, Any]:
    if not isinstance(value, str) or not value:
        raise DPoPProblem("the DPoP header is empty")
    if len(value) > MAX_PROOF_LENGTH:
        raise DPoPProblem(f"the DPoP proof is longer than {MAX_PROOF_LENGTH} characters")
    if not _COMPACT_JWS.fullmatch(value):
        raise DPoPProblem("the DPoP header is not one compact signed JWT (RFC 9449 §4.1: one DPoP header)")
    try:
        header = json.loads(base64url_decode(value.split(".", 1)[0]))
    except (ValueError, TypeError):
        raise DPoPProblem("the DPoP proof's header is not base64url-encoded JSON") from None
    if not isinstance(header, dict):
        raise DPoPProblem("the DPoP proof's header is not a JSON object")
    return header


def _public_key(header: dict[str, Any], algorithms: tuple[str, ...]) -> jwk.JWK:
    """§4.3 checks 4 to 7 before the signature: ``typ``, ``alg``, and a public ``jwk`` of that alg."""
    if not isinstance(header.get("typ"), str) or header["typ"].lower() != PROOF_TYPE:
        raise DPoPProblem(f"the DPoP proof's typ is {_echo(header.get('typ'))}, not dpop+jwt (RFC 9449 §4.2)")
    alg = header.get("alg")
    if alg not in algorithms or alg not in KEY_TYPES:
        raise DPoPProblem(
            f"the DPoP proof's alg {_echo(alg)} is not accepted; use one of {', '.join(algorithms)}"
        )
    members = header.get("jwk")
    if not isinstance(members, dict):
        raise DPoPProblem("the DPoP proof's header has no jwk (the public key, RFC 9449 §4.2)")
    if PRIVATE_MEMBERS & set(members):
        raise DPoPProblem("the DPoP proof's jwk contains a private or symmetric key (RFC 9449 §4.3)")
    kty, crv = KEY_TYPES[alg]
    if members.get("kty") != kty or (crv is not None and members.get("crv") != crv):
        raise DPoPProblem(f"the DPoP proof's jwk is not a key for {alg}")
    if alg == "EdDSA" and members.get("crv") not in ("Ed25519", "Ed448"):
        raise DPoPProblem("the DPoP proof's jwk is not an Ed25519 or Ed448 key (EdDSA)")
    if "alg" in members and members["alg"] != alg:
        raise DPoPProblem("the DPoP proof's jwk names another alg than the proof's header")
    try:
        key = jwk.JWK(**members)
        short = kty == "RSA" and len(base64url_decode(key.get("n"))) * 8 < MIN_RSA_BITS
    except Exception:  # whatever jwcrypto makes of a forged key, it is not a usable one
        raise DPoPProblem("the DPoP proof's jwk is not a valid public key") from None
    if short:
        raise DPoPProblem(f"the DPoP proof's RSA key is shorter than {MIN_RSA_BITS} bits")
    return key


def _claims(value: str, key: jwk.JWK, alg: str) -> dict[str, Any]:
    """§4.3 check 6 (the signature), then the payload: a JSON object with the claims of §4.2."""
    try:
        parsed = jws.JWS()
        parsed.deserialize(value)
        parsed.allowed_algs = [alg]
        parsed.verify(key, alg=alg)
        claims = json.loads(parsed.payload)
    except Exception:  # a forged signature or payload, whatever jwcrypto raises for it
        raise DPoPProblem("the DPoP proof's signature does not verify with its jwk") from None
    if not isinstance(claims, dict):
        raise DPoPProblem("the DPoP proof's payload is not a JSON object")
    for name in ("jti", "htm", "htu"):
        if not isinstance(claims.get(name), str) or not claims[name]:
            raise DPoPProblem(f"the DPoP proof has no {name} claim (RFC 9449 §4.2)")
    if len(claims["jti"]) > MAX_JTI_LENGTH:
        raise DPoPProblem(f"the DPoP proof's jti is longer than {MAX_JTI_LENGTH} characters")
    iat = claims.get("iat")
    if not isinstance(iat, int | float) or isinstance(iat, bool):
        raise DPoPProblem("the DPoP proof has no numeric iat claim (RFC 9449 §4.2)")
    return claims


def verify_proof(
    value: str,
    *,
    method: str,
    uri: str,
    access_token: str | None = None,
    nonce_server: str | None = None,
    algorithms: tuple[str, ...] | None = None,
    max_age: int | None = None,
    leeway: int | None = None,
    now: float | None = None,
) -> VerifiedProof:
    """Check the ``DPoP`` header ``value`` for the request ``method`` ``uri`` (RFC 9449 §4.3).

    ``access_token``: at a resource server, the token presented with it (``ath`` must be its hash).
    ``nonce_server``: when nonces are required, the name of the server whose nonce the proof must
    carry (:mod:`.nonces`); a missing or stale one raises :class:`UseDPoPNonce` with a fresh nonce.
    ``max_age`` (seconds, default ``DPOP_PROOF_MAX_AGE``) and ``leeway`` (default ``JWT_LEEWAY``)
    bound ``iat``: from ``now - max_age - leeway`` to ``now + leeway``. Raises :class:`DPoPProblem`
    naming the first check that failed; on success the ``jti`` is spent (a second use is refused).
    """
    algorithms = algorithms or configured_algorithms()
    max_age = rar_settings.DPOP_PROOF_MAX_AGE if max_age is None else max_age
    leeway = rar_settings.JWT_LEEWAY if leeway is None else leeway
    moment = time.time() if now is None else now
    header = _header_of(value)
    key = _public_key(header, algorithms)
    claims = _claims(value, key, header["alg"])
    if claims["htm"] != method:
        raise DPoPProblem(f"the DPoP proof is for {_echo(claims['htm'])} requests, not {method} (htm)")
    expected = normalized_uri(uri)
    if expected is None or normalized_uri(claims["htu"]) != expected:
        raise DPoPProblem(f"the DPoP proof is for {_echo(claims['htu'], 80)}, not {uri} (htu)")
    if claims["iat"] > moment + leeway:
        raise DPoPProblem("the DPoP proof was made in the future (iat)")
    if claims["iat"] < moment - max_age - leeway:
        raise DPoPProblem(f"the DPoP proof is older than {max_age} seconds (iat); make a new one")
    if access_token is not None:
        if not isinstance(claims.get("ath"), str):
            raise DPoPProblem("the DPoP proof has no ath claim (the access token's hash, RFC 9449 §4.2)")
        if claims["ath"] != access_token_hash(access_token):
            raise DPoPProblem("the DPoP proof's ath is not the hash of this access token")
    if nonce_server is not None and not nonces.is_valid(claims.get("nonce"), nonce_server, now=moment):
        missing = "nonce" not in claims
        raise UseDPoPNonce(
            "the DPoP proof must carry the server's nonce (RFC 9449 §8): use the DPoP-Nonce header's value"
            if missing
            else "the DPoP proof's nonce is not the current one: use the DPoP-Nonce header's value",
            nonce=nonces.new_nonce(nonce_server, now=moment),
        )
    jkt = key.thumbprint()
    spent = hashlib.sha256(f"{jkt} {claims['jti']}".encode()).hexdigest()
    if not cache.add(CACHE_PREFIX + spent, 1, timeout=int(max_age + 2 * leeway) + 1):
        raise DPoPProblem("this DPoP proof was already used (its jti); make a new proof for each request")
    return VerifiedProof(jkt=jkt, jti=claims["jti"], htm=claims["htm"], htu=claims["htu"], claims=claims)
