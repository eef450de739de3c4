"""Which API a request is for, and which of its types a client may request.

RFC 9396 §2 leaves "which types exist and who may use them" to the server;
this module answers it from the admin-managed models, the way the reference
product's API access policies do (``allow_all``, ``require_client_grant``,
``deny_all``).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from .conf import rar_settings
from .errors import AuthorizationDetailsProblem
from .models import AccessPolicy, AuthorizationDetailType, ClientGrant, ResourceServer


def resolve_resource_server(identifier: str | None, parameter: str = "audience") -> ResourceServer | None:
    """The API named by ``identifier`` (an ``audience`` or RFC 8707 ``resource``), else the
    default API, else the only API.

    Returns None when no API can be chosen (no API registered, or several and
    no default). Raises ``AuthorizationDetailsProblem`` with ``invalid_target``
    for an unknown identifier, naming ``parameter``.
    """
    if identifier:
        server = load_resource_server(identifier)
        if server is None:
            raise AuthorizationDetailsProblem(
                f"{parameter} {identifier!r} is not a registered API", error="invalid_target"
            )
        return server
    default = rar_settings.DEFAULT_RESOURCE_SERVER
    if default:
        server = load_resource_server(default)
        if server is None:
            raise AuthorizationDetailsProblem(
                f"the default API {default!r} (RAR_PROVIDER['DEFAULT_RESOURCE_SERVER']) is not registered",
                error="server_error",
            )
        return server
    servers = list(ResourceServer.objects.all()[:2])
    return servers[0] if len(servers) == 1 else None


def load_resource_server(identifier: str) -> ResourceServer | None:
    """The API named ``identifier`` with its enabled types (``enabled_types``), in one query.

    The types are read joined to their API; only an API without enabled types costs a second query.
    """
    rows = list(
        AuthorizationDetailType.objects.select_related("resource_server").filter(
            resource_server__identifier=identifier, enabled=True
        )
    )
    if rows:
        server = rows[0].resource_server
        for row in rows:
            row.resource_server = server
        server.enabled_types = {row.type: row for row in rows}
        return server
    server = ResourceServer.objects.filter(identifier=identifier).first()
    if server is not None:
        server.enabled_types = {}
    return server


def choose_resource_server(audience: str | None, resources: list[str]) -> ResourceServer | None:
    """Which API a request is for: ``audience`` and RFC 8707 §2 ``resource`` must agree.

    A token here is issued for one API, so several different ``resource``
    values are refused with ``invalid_target`` (RFC 8707 §2).
    """
    distinct = list(dict.fromkeys(resources))
    if len(distinct) > 1:
        raise AuthorizationDetailsProblem(
            "resource names several APIs; a token here is for one API: send one resource",
            error="invalid_target",
        )
    resource = distinct[0] if distinct else None
    if resource and audience and resource != audience:
        raise AuthorizationDetailsProblem(
            f"audience {audience!r} and resource {resource!r} name different APIs", error="invalid_target"
        )
    if resource:
        return resolve_resource_server(resource, "resource")
    return resolve_resource_server(audience, "audience")


@dataclass(frozen=True)
class TypeCatalogue:
    """The enabled types of one API and the subset one client may request."""

    resource_server: ResourceServer
    types: dict[str, AuthorizationDetailType]
    allowed: frozenset[str]

    def check(self, details: list[dict]) -> None:
        """RFC 9396 §5: every ``type`` must be known and allowed (exact comparison, §2)."""
        for index, detail in enumerate(details):
            name = detail["type"]
            if name not in self.types:
                raise AuthorizationDetailsProblem(
                    f"authorization_details[{index}].type {name!r} is not a type of API "
                    f"{self.resource_server.identifier}"
                )
            if name not in self.allowed:
                raise AuthorizationDetailsProblem(
                    f"authorization_details[{index}].type {name!r} is not allowed for this client"
                )


def type_catalogue(
    resource_server: ResourceServer, application, *, on_behalf_of_user: bool = True
) -> TypeCatalogue:
    """Load the enabled types of ``resource_server`` and those ``application`` may request.

    ``on_behalf_of_user`` selects the API's user access policy (authorization
    code flow); False selects its client access policy (client credentials).
    """
    types = getattr(resource_server, "enabled_types", None)
    if types is None:
        types = {t.type: t for t in resource_server.detail_types.filter(enabled=True)}
    policy = resource_server.user_access_policy if on_behalf_of_user else resource_server.client_access_policy
    if policy == AccessPolicy.ALLOW_ALL:
        allowed = frozenset(types)
    elif policy == AccessPolicy.REQUIRE_CLIENT_GRANT:
        # One filter() call: the type must belong to this API too (same join row).
        granted = ClientGrant.objects.filter(
            policy__application=application,
            resource_server=resource_server,
            detail_types__resource_server=resource_server,
        ).values_list("detail_types__type", flat=True)
        allowed = frozenset(name for name in granted if name in types)
    else:
        allowed = frozenset()
    return TypeCatalogue(resource_server=resource_server, types=types, allowed=allowed)


def client_requires_par(application) -> bool:
    """RFC 9126 §5 ``require_pushed_authorization_requests``, globally or for this client.

    A client that must sign its request objects must push them too: the authorization endpoint
    does not take the ``request`` parameter (request objects are accepted at PAR only).
    """
    if rar_settings.PAR_REQUIRED or client_requires_signed_request_object(application):
        return True
    # A missing reverse one-to-one raises RelatedObjectDoesNotExist, an AttributeError.
    policy = getattr(application, "rar_policy", None)
    return bool(policy and policy.require_pushed_authorization_requests)


def client_requires_signed_request_object(application) -> bool:
    """RFC 9101 §10.5 ``require_signed_request_object``, globally or for this client."""
    if rar_settings.REQUIRE_SIGNED_REQUEST_OBJECT:
        return True
    policy = getattr(application, "rar_policy", None)
    return bool(policy and policy.require_signed_request_object)


def detail_comparators() -> dict:
    """``DETAIL_COMPARATORS`` imported: type name → ``callable(requested, granted) -> bool``.

    RFC 9396 §6: how a requested detail is compared with a granted one is up to
    the type; the default (:func:`~rar_provider.details.detail_is_covered`) applies otherwise.
    """
    configured = rar_settings.DETAIL_COMPARATORS or {}
    if not isinstance(configured, dict):
        raise ImproperlyConfigured(
            "RAR_PROVIDER['DETAIL_COMPARATORS'] must be a dict of type name → dotted path"
        )
    return {
        name: (import_string(path) if isinstance(path, str) else path) for name, path in configured.items()
    }
