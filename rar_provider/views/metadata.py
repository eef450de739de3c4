"""Authorization server metadata (RFC 8414), with the PAR (RFC 9126 §5), RAR
(RFC 9396 §10), RFC 9207, client authentication (RFC 8414 §2, RFC 7523) and request
object (RFC 9101 §10.5) fields. One document, served at both
``/.well-known/oauth-authorization-server`` and ``/.well-known/openid-configuration``."""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from django.http import JsonResponse
from django.urls import NoReverseMatch, reverse
from django.utils.decorators import method_decorator
from django.views import View
from oauth2_provider.compat import login_not_required
from oauth2_provider.settings import oauth2_settings

from ..adapter import get_adapter
from ..conf import rar_settings
from ..keys import signing_keys
from ..models import AuthorizationDetailType
from ..parameters import GRANT_TYPES_SUPPORTED, RESPONSE_MODES_SUPPORTED, RESPONSE_TYPES_SUPPORTED

ENDPOINTS = (
    ("authorization_endpoint", "rar_provider:authorize"),
    ("token_endpoint", "rar_provider:token"),
    ("revocation_endpoint", "rar_provider:revoke"),
    ("introspection_endpoint", "rar_provider:introspect"),
    ("jwks_uri", "rar_provider:jwks"),
)
#: RFC 8414 §2: how clients may authenticate (rar_provider.oauth.client_authentication). Public clients
#: ("none") only identify themselves; introspection needs an authenticated client (RFC 7662 §2.1).
AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]
INTROSPECTION_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt"]


def server_metadata(request) -> dict:
    issuer = get_adapter().issuer(request)
    data: dict = {"issuer": issuer}
    for key, name in ENDPOINTS:
        try:
            data[key] = issuer + reverse(name)
        except NoReverseMatch:
            continue
    if rar_settings.PAR_ENABLED:
        data["pushed_authorization_request_endpoint"] = issuer + reverse("rar_provider:par")
    # A signed request object is taken at PAR only, so requiring one requires PAR too.
    data["require_pushed_authorization_requests"] = (
        rar_settings.PAR_REQUIRED or rar_settings.REQUIRE_SIGNED_REQUEST_OBJECT
    )
    data["authorization_details_types_supported"] = sorted(
        set(AuthorizationDetailType.objects.filter(enabled=True).values_list("type", flat=True))
    )
    # One source with the checks that refuse everything else (rar_provider.parameters).
    data["response_types_supported"] = list(RESPONSE_TYPES_SUPPORTED)
    data["response_modes_supported"] = list(RESPONSE_MODES_SUPPORTED)
    data["grant_types_supported"] = list(GRANT_TYPES_SUPPORTED)
    data["code_challenge_methods_supported"] = ["S256"] if rar_settings.PKCE_S256_ONLY else ["S256", "plain"]
    data["authorization_response_iss_parameter_supported"] = True
    assertion_algs = list(rar_settings.CLIENT_ASSERTION_SIGNING_ALGS)
    for endpoint, methods in (
        ("token_endpoint", AUTH_METHODS),
        ("revocation_endpoint", AUTH_METHODS),
        ("introspection_endpoint", INTROSPECTION_AUTH_METHODS),
    ):
        data[f"{endpoint}_auth_methods_supported"] = list(methods)
        data[f"{endpoint}_auth_signing_alg_values_supported"] = assertion_algs
    # RFC 9101 §10.5 / RFC 9126 §3: request objects are accepted at the PAR endpoint (only there).
    data["request_parameter_supported"] = rar_settings.PAR_ENABLED
    data["request_object_signing_alg_values_supported"] = list(rar_settings.REQUEST_OBJECT_SIGNING_ALGS)
    data["require_signed_request_object"] = rar_settings.REQUIRE_SIGNED_REQUEST_OBJECT
    # RFC 9068 §4: the algorithms of the published keys (RFC 8414 §2).
    try:
        algs = sorted({key.alg for key in signing_keys()})
    except ImproperlyConfigured:
        algs = []  # reported by rar_provider.E006; the rest of the document still serves
    if algs:
        data["access_token_signing_alg_values_supported"] = algs
    data["scopes_supported"] = sorted(oauth2_settings.SCOPES)
    # RFC 9449 §5.1: the algorithms DPoP proofs may be signed with (rar_provider.dpop).
    data["dpop_signing_alg_values_supported"] = list(rar_settings.DPOP_SIGNING_ALGS)
    return data


@method_decorator(login_not_required, name="dispatch")
class ServerMetadataView(View):
    http_method_names = ["get", "head"]

    def get(self, request, *args, **kwargs):
        response = JsonResponse(server_metadata(request))
        response["Access-Control-Allow-Origin"] = "*"
        return response
