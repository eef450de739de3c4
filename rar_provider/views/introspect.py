"""Token introspection (RFC 7662), with the token's authorization_details (RFC 9396 §9.2).

Only authenticated callers get an answer: a confidential client (HTTP Basic
or ``client_secret`` in the body, RFC 7662 §2.1), or a bearer token with the
``introspection`` scope (DOT's convention; its client is then the caller). An
unknown, expired or revoked token is exactly ``{"active": false}`` (RFC 7662 §2.2).

RFC 7662 §4: the server decides what a caller may learn about a token. A caller
learns about a token only when it is the token's own client, or — for an access
token — one of the *resource server clients* registered on the token's API
(``ResourceServer.introspection_clients``). Anyone else gets exactly
``{"active": false}``, as for an unknown token, so a stranger cannot even tell
that the token exists.
"""

from __future__ import annotations

import calendar
from datetime import timedelta

from django.http import JsonResponse
from django.utils import timezone
from django.views import View
from oauth2_provider.models import get_access_token_model, get_refresh_token_model
from oauth2_provider.settings import oauth2_settings

from ..adapter import get_adapter
from ..models import sha256_hex
from .client_auth import EndpointError, authenticate_client
from .endpoint import OAuthEndpointMixin
from .oauth import get_server

INACTIVE = {"active": False}


def _timestamp(moment) -> int:
    return int(calendar.timegm(moment.utctimetuple()))


def may_introspect(caller, token, *, access_token: bool) -> bool:
    """RFC 7662 §4: may ``caller`` (an Application) learn about ``token``?

    Its own client always may; a resource server client of the token's API may, for access tokens
    only (a refresh token is the client's business alone). One query at most.
    """
    if token.application_id is not None and caller.pk == token.application_id:
        return True
    if not access_token:
        return False
    _details, resource_server = _details_of(token)
    if resource_server is None:
        return False
    return resource_server.introspection_clients.filter(pk=caller.pk).exists()


def _details_of(token) -> tuple[list[dict], object]:
    """What the token carries and its API: an access token's own subset, a refresh token's whole grant."""
    stored = getattr(token, "rar_issued", None)
    if stored is None:
        return [], None
    return stored.authorization_details, stored.resource_server


def _grant_ended(token) -> bool:
    """The token's grant was revoked (or ended): the token is no longer active, whatever its row says."""
    grant = getattr(getattr(token, "rar_issued", None), "grant", None)
    return grant is not None and not grant.is_usable


def _common(token, issuer: str, token_type: str) -> dict:
    data: dict = {"active": True, "iss": issuer, "token_type": token_type}
    # A refresh token has no scope of its own: it is the scope of the access token it goes with.
    scope = getattr(token, "scope", None)
    if scope is None and getattr(token, "access_token", None) is not None:
        scope = token.access_token.scope
    if scope:
        data["scope"] = scope
    if token.application is not None:
        data["client_id"] = token.application.client_id
    adapter = get_adapter()
    if token.user is not None:
        data["sub"] = adapter.user_subject(token.user)
        data["username"] = token.user.get_username()
    elif token.application is not None:
        data["sub"] = adapter.client_subject(
            token.application
        )  # the client acting for itself (RFC 9068 §2.2)
    data["iat"] = _timestamp(token.created)
    details, resource_server = _details_of(token)
    audiences = [resource_server.identifier] if resource_server is not None else list(token.resource or [])
    if audiences:
        data["aud"] = audiences[0] if len(audiences) == 1 else audiences
    if details:
        data["authorization_details"] = details
    stored = getattr(token, "rar_issued", None)
    grant = getattr(stored, "grant", None)
    if grant is not None:
        # The grant the token comes from (rar_provider.grants), as in the JWT.
        data["grant_id"] = grant.grant_id
        if hasattr(stored, "grant_entries"):
            data["grant_entries"] = stored.grant_entries
    return data


def introspect_access_token(value: str, issuer: str, caller) -> dict | None:
    token = (
        get_access_token_model()
        .objects.select_related("user", "application", "rar_issued__resource_server", "rar_issued__grant")
        .filter(token_checksum=sha256_hex(value))
        .first()
    )
    if token is None or token.is_expired() or _grant_ended(token):
        return None
    if not may_introspect(caller, token, access_token=True):
        return None
    jkt = getattr(getattr(token, "rar_issued", None), "dpop_jkt", "")
    data = _common(token, issuer, "DPoP" if jkt else "Bearer")
    if jkt:
        data["cnf"] = {"jkt": jkt}  # RFC 9449 §6.2: the key the token is bound to
    data["exp"] = _timestamp(token.expires)
    return get_adapter().introspection_response(data, token=token)


def introspect_refresh_token(value: str, issuer: str, caller) -> dict | None:
    token = (
        get_refresh_token_model()
        .objects.select_related("user", "application", "rar_issued__grant__resource_server")
        .filter(token_checksum=sha256_hex(value), revoked__isnull=True)
        .first()
    )
    if token is None or _grant_ended(token) or not may_introspect(caller, token, access_token=False):
        return None
    lifetime = oauth2_settings.REFRESH_TOKEN_EXPIRE_SECONDS
    data = _common(token, issuer, "refresh_token")
    if lifetime:
        expires = token.created + timedelta(seconds=lifetime)
        if expires <= timezone.now():
            return None
        data["exp"] = _timestamp(expires)
    return get_adapter().introspection_response(data, token=token)


class IntrospectionView(OAuthEndpointMixin, View):
    """RFC 7662 §2: POST ``token`` (and optionally ``token_type_hint``); authenticated callers only.

    The mixin has checked ``token`` (required, once) and ``token_type_hint``.
    """

    endpoint = "introspect"

    def post(self, request, *args, **kwargs):
        try:
            caller = self.authenticate(request)
        except EndpointError as error:
            return error.response()
        values = request.POST.getlist("token")
        hint = request.POST.get("token_type_hint", "access_token")
        order = (
            (introspect_refresh_token, introspect_access_token)
            if hint == "refresh_token"
            else (introspect_access_token, introspect_refresh_token)
        )
        issuer = get_adapter().issuer(request)
        for lookup in order:
            data = lookup(values[0], issuer, caller)
            if data is not None:
                return self.respond(data)
        return self.respond(INACTIVE)

    def authenticate(self, request):
        """The calling client (an Application), or ``EndpointError``."""
        authorization = request.META.get("HTTP_AUTHORIZATION", "")
        if authorization.lower().startswith("bearer "):
            return self.authenticate_bearer(authorization.split(" ", 1)[1].strip())
        return authenticate_client(request, get_server(), confidential_only=True)

    def authenticate_bearer(self, value: str):
        """The client of a bearer token with the ``introspection`` scope (DOT's convention)."""
        token = (
            get_access_token_model()
            .objects.select_related("application")
            .filter(token_checksum=sha256_hex(value))
            .first()
        )
        if token is None or token.is_expired() or token.application is None:
            raise EndpointError("invalid_token", "The bearer token is not valid.", 401)
        if getattr(getattr(token, "rar_issued", None), "dpop_jkt", ""):
            raise EndpointError(
                "invalid_token",
                "The token is DPoP-bound: it cannot be used as a bearer token (RFC 9449 §7.2).",
                401,
            )
        if "introspection" not in token.scope.split():
            raise EndpointError("insufficient_scope", "The bearer token lacks the introspection scope.", 403)
        return token.application

    @staticmethod
    def respond(data: dict) -> JsonResponse:
        return JsonResponse(data)
