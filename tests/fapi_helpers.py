"""Helpers for the private_key_jwt and request object tests (issue 12): client keys, registering a
client's public keys on its policy, and signing client assertions and request objects by hand."""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from jwcrypto import jwk, jws
from jwcrypto.common import base64url_encode, json_encode

from rar_provider.models import ClientPolicy, TokenEndpointAuthMethod

from .conftest import ISSUER, REDIRECT_URI

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
FAPI_CLIENT = "fapi-client"
#: The secret DOT gives every confidential client; long enough to be an HS256 key (RFC 7518 §3.2).
FAPI_SECRET = "fapi-secret-that-is-refused-0123456789"

_KEYS: dict[tuple[str, str], jwk.JWK] = {}


def new_key(alg: str = "ES256", kid: str | None = None) -> jwk.JWK:
    """A private key for ``alg`` with ``kid`` and ``alg`` set (made once per process and kid)."""
    kid = kid or f"{alg.lower()}-1"
    if (alg, kid) not in _KEYS:
        if alg.startswith(("PS", "RS")):
            key = jwk.JWK.generate(kty="RSA", size=2048)
        elif alg == "EdDSA":
            key = jwk.JWK.generate(kty="OKP", crv="Ed25519")
        else:
            key = jwk.JWK.generate(kty="EC", crv={"ES256": "P-256", "ES384": "P-384", "ES512": "P-521"}[alg])
        data = key.export_private(as_dict=True)
        data.update(kid=kid, alg=alg)
        _KEYS[(alg, kid)] = jwk.JWK(**data)
    return _KEYS[(alg, kid)]


def public_jwks(*keys: jwk.JWK) -> str:
    """The public JWK Set of ``keys`` as JSON text (what an operator pastes in admin)."""
    return json.dumps({"keys": [key.export_public(as_dict=True) for key in keys]})


def register_keys(
    application, *keys: jwk.JWK, method: str = TokenEndpointAuthMethod.PRIVATE_KEY_JWT, **fields
):
    """Give ``application``'s policy the public keys of ``keys`` and ``method``; the policy."""
    policy, _ = ClientPolicy.objects.update_or_create(
        application=application,
        defaults={"token_endpoint_auth_method": method, "jwks": public_jwks(*keys), **fields},
    )
    return policy


def make_client(
    client_id: str = FAPI_CLIENT, *keys: jwk.JWK, grant_type: str = "authorization-code", **fields
):
    """A confidential client registered for private_key_jwt with ``keys`` (default: one ES256 key)."""
    from oauth2_provider.models import get_application_model

    application = get_application_model().objects.create(
        client_id=client_id,
        name=f"{client_id} (test)",
        client_type="confidential",
        authorization_grant_type=grant_type,
        redirect_uris=REDIRECT_URI if grant_type == "authorization-code" else "",
        client_secret=FAPI_SECRET,
    )
    register_keys(application, *(keys or (new_key(),)), **fields)
    return application


def sign(key: jwk.JWK | None, claims: dict[str, Any] | str, header: dict[str, Any]) -> str:
    """A compact JWS of ``claims`` (a dict, or raw payload text) with exactly ``header``."""
    payload = claims if isinstance(claims, str) else json.dumps(claims)
    if header.get("alg") == "none" or key is None:  # RFC 7515 §A.5: an Unsecured JWS, empty signature
        return f"{base64url_encode(json_encode(header))}.{base64url_encode(payload)}."
    token = jws.JWS(payload.encode())
    token.allowed_algs = [header["alg"]]
    token.add_signature(key, alg=header["alg"], protected=json_encode(header))
    return token.serialize(compact=True)


def assertion(
    key: jwk.JWK,
    client_id: str = FAPI_CLIENT,
    /,
    *,
    aud: Any = ISSUER,
    lifetime: int = 60,
    header: dict[str, Any] | None = None,
    drop: tuple[str, ...] = (),
    **claims: Any,
) -> str:
    """A client assertion (RFC 7523 §3) for ``client_id``; ``claims`` override, ``drop`` removes."""
    now = int(time.time())
    body = {
        "iss": client_id,
        "sub": client_id,
        "aud": aud,
        "iat": now,
        "exp": now + lifetime,
        "jti": secrets.token_urlsafe(16),
        **claims,
    }
    for name in drop:
        body.pop(name, None)
    protected = {"alg": key.get("alg"), "kid": key.get("kid"), **(header or {})}
    return sign(key, body, {k: v for k, v in protected.items() if v is not None})


def assertion_pairs(key: jwk.JWK, client_id: str = FAPI_CLIENT, **kwargs) -> list[tuple[str, str]]:
    """``client_assertion_type`` and ``client_assertion`` form pairs."""
    return [
        ("client_assertion_type", ASSERTION_TYPE),
        ("client_assertion", assertion(key, client_id, **kwargs)),
    ]


def request_object(
    key: jwk.JWK,
    client_id: str = FAPI_CLIENT,
    /,
    *,
    lifetime: int = 60,
    header: dict[str, Any] | None = None,
    drop: tuple[str, ...] = (),
    **claims: Any,
) -> str:
    """A signed request object (RFC 9101) carrying an authorization request; ``claims`` override."""
    now = int(time.time())
    body = {
        "iss": client_id,
        "aud": ISSUER,
        "iat": now,
        "nbf": now,
        "exp": now + lifetime,
        "jti": secrets.token_urlsafe(16),
        "client_id": client_id,
        "response_type": "code",
        "redirect_uri": REDIRECT_URI,
        "state": "jar-1",
        **claims,
    }
    for name in drop:
        body.pop(name, None)
    protected = {"alg": key.get("alg"), "kid": key.get("kid"), "typ": "oauth-authz-req+jwt", **(header or {})}
    return sign(key, body, {k: v for k, v in protected.items() if v is not None})
