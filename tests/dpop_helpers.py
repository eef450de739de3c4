"""A DPoP client's key, made by hand with jwcrypto (RFC 9449 §4.2), for the Django test client tests.

Each test makes the proofs a client would, and the broken ones a client should never send: another
``typ``, ``alg: none``, a private ``jwk``, a stale ``iat``, a proof for another URL… The live test
(tests/test_dpop_live.py) uses an independent implementation instead (requests-oauth2client).
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from jwcrypto import jwk, jws
from jwcrypto.common import base64url_encode

from rar_provider.dpop import access_token_hash

from .conftest import ISSUER

PAR_HTU = f"{ISSUER}/oauth/par"
TOKEN_HTU = f"{ISSUER}/oauth/token"
#: The demo Payments API as Django's test client reaches it (its origin is the request's).
API_HTU = "http://testserver/api/transfers/"

GENERATORS = {
    "ES256": {"kty": "EC", "crv": "P-256"},
    "ES384": {"kty": "EC", "crv": "P-384"},
    "PS256": {"kty": "RSA", "size": 2048},
    "RS256": {"kty": "RSA", "size": 2048},
    "EdDSA": {"kty": "OKP", "crv": "Ed25519"},
}


class DPoPKey:
    """A client's DPoP key pair and the proofs it signs."""

    def __init__(self, alg: str = "ES256"):
        self.alg = alg
        self.key = jwk.JWK.generate(**GENERATORS[alg])
        self.public = self.key.export_public(as_dict=True)
        self.jkt = self.key.thumbprint()

    def proof(
        self,
        htu: str = TOKEN_HTU,
        htm: str = "POST",
        *,
        access_token: str | None = None,
        nonce: str | None = None,
        iat: float | None = None,
        jti: str | None = None,
        header: dict[str, Any] | None = None,
        claims: dict[str, Any] | None = None,
        drop: tuple[str, ...] = (),
    ) -> str:
        """A signed proof; ``header`` and ``claims`` override (a ``None`` value removes a member)."""
        protected = {"typ": "dpop+jwt", "alg": self.alg, "jwk": self.public, **(header or {})}
        payload = {
            "jti": jti or secrets.token_urlsafe(16),
            "htm": htm,
            "htu": htu,
            "iat": int(time.time()) if iat is None else iat,
            **(claims or {}),
        }
        if access_token is not None:
            payload["ath"] = access_token_hash(access_token)
        if nonce is not None:
            payload["nonce"] = nonce
        for name in drop:
            payload.pop(name, None)
        protected = {k: v for k, v in protected.items() if v is not None}
        signature = jws.JWS(json.dumps(payload).encode())
        signature.add_signature(self.key, alg=self.alg, protected=json.dumps(protected))
        return signature.serialize(compact=True)

    def forged(self, htu: str = TOKEN_HTU, htm: str = "POST", *, signature: str = "c2ln", **header) -> str:
        """A proof whose header says what a signer would refuse to (``alg: none``, ``HS256``…);
        ``signature`` is not one (empty for ``none``)."""
        protected = {"typ": "dpop+jwt", "alg": self.alg, "jwk": self.public, **header}
        payload = {"jti": secrets.token_urlsafe(16), "htm": htm, "htu": htu, "iat": int(time.time())}
        return (
            f"{base64url_encode(json.dumps(protected))}.{base64url_encode(json.dumps(payload))}.{signature}"
        )


def dpop_header(proof: str) -> dict[str, str]:
    """The test client's ``extra`` for a ``DPoP`` request header."""
    return {"HTTP_DPOP": proof}
