"""The access-token generator oauthlib calls: opaque, JWT (RFC 9068) or JWE, per API.

``RARServerMixin`` wraps the configured generator (DOT's
``ACCESS_TOKEN_GENERATOR``, else oauthlib's random one) in
:class:`AccessTokenGenerator`; refresh tokens stay opaque.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from oauthlib.oauth2.rfc6749 import errors as oauthlib_errors

from .. import access_tokens, keys
from ..adapter import access_token_claims, get_adapter
from ..conf import rar_settings
from ..dpop import binding as dpop
from ..models import AccessTokenFormat
from .context import context_of


def issuer_for(request) -> str:
    """RFC 9068 §2.2 ``iss``: the configured issuer, else the token endpoint's origin.

    The same value as the metadata's ``issuer`` (``rar_settings.issuer``): DOT's
    oauthlib request has only the path in ``uri``, so the origin comes from the
    Django request's headers it carries.
    """
    return get_adapter().issuer(request)


def client_acts_for_itself(request) -> bool:
    """RFC 6749 §4.4: a client credentials token, or any token with no user behind it."""
    user = getattr(request, "user", None)
    return request.grant_type == "client_credentials" or user is None or getattr(user, "pk", None) is None


def subject_for(request) -> str:
    """RFC 9068 §2.2 ``sub``: the user's primary key, or the client_id when the client acts for itself."""
    adapter = get_adapter()
    if client_acts_for_itself(request):
        return adapter.client_subject(request.client)
    return adapter.user_subject(request.user)


def jwt_claims(request, resource_server) -> dict:
    context = context_of(request)
    claims = access_tokens.build_claims(
        issuer=issuer_for(request),
        audience=resource_server.identifier,
        subject=subject_for(request),
        client_id=request.client.client_id,
        expires_in=request.expires_in,
        scope=" ".join(request.scopes or []),
        authorization_details=context.details,
        client_acts_for_itself=client_acts_for_itself(request),
        grant_id=context.grant_id,
        grant_entries=context.entries(),
        dpop_jkt=dpop.bound_key(request),
    )
    user = None if client_acts_for_itself(request) else request.user
    return access_token_claims(
        claims, user=user, client=request.client, grant=context.grant, resource_server=resource_server
    )


class AccessTokenLifetime:
    """oauthlib's ``expires_in`` for ``BearerToken``: DOT's lifetime, capped for JWT and JWE APIs.

    A JWT access token is verified by the API on its own until ``exp`` (RFC 9068 §4), so its
    lifetime is at most ``RAR_PROVIDER["JWT_ACCESS_TOKEN_LIFETIME"]`` seconds (600 by default):
    minutes, not DOT's default ten hours. Opaque tokens keep DOT's lifetime (they are introspected).
    The same value gives the JWT's ``exp`` and DOT's stored ``expires``.
    """

    def __init__(self, lifetime):
        self.lifetime = lifetime

    def __call__(self, request) -> int:
        base = self.lifetime(request) if callable(self.lifetime) else (self.lifetime or 3600)
        resource_server = context_of(request).resource_server
        if resource_server is not None and resource_server.issues_jwt:
            return min(int(base), rar_settings.JWT_ACCESS_TOKEN_LIFETIME)
        return int(base)


class AccessTokenGenerator:
    """``token_generator`` for oauthlib's ``BearerToken``: the API's format decides."""

    def __init__(self, opaque):
        self.opaque = opaque

    def __call__(self, request, refresh_token: bool = False) -> str:
        resource_server = context_of(request).resource_server
        if refresh_token or resource_server is None or not resource_server.issues_jwt:
            return self.opaque(request)
        try:
            signed = access_tokens.sign(jwt_claims(request, resource_server), keys.current_signing_key())
        except ImproperlyConfigured as exc:
            raise oauthlib_errors.ServerError(description=str(exc), request=request) from exc
        if resource_server.access_token_format != AccessTokenFormat.JWE:
            return signed
        try:
            public_key = access_tokens.load_public_key(resource_server.encryption_key)
        except ValueError as exc:
            raise oauthlib_errors.ServerError(
                description=f"API {resource_server.identifier} has no usable encryption key: {exc}",
                request=request,
            ) from exc
        return access_tokens.encrypt(
            signed, public_key, resource_server.encryption_alg, resource_server.encryption_enc
        )
