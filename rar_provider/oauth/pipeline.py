"""The checks every authorization request goes through, pushed or not.

oauthlib first checks client_id and redirect_uri, then calls
:func:`validate_redirect` (a ``pre_auth`` custom validator), then checks
response_type, PKCE presence and scope (RFC 6749 §4.1.1), then calls
:func:`validate_authorization_request` (``post_auth``), which runs the steps
below in a fixed order. ``RARServerMixin`` installs both. The PAR endpoint (RFC 9126 §2.1: "the
authorization server MUST validate the request the same way as at the
authorization endpoint") and the authorization endpoint both go through here,
so a pushed request is validated exactly as a front-channel one would be.

Each step reads the oauthlib ``Request``, raises an ``OAuth2Error`` whose
description names what was wrong, or records what it learnt on the request
in its :class:`~.context.RequestContext`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from oauthlib.oauth2.rfc6749 import errors as oauthlib_errors

from .. import fapi, parameters
from ..conf import rar_settings
from ..details import check_common_fields, parse_authorization_details, validate_against_schema
from ..errors import (
    AuthorizationDetailsProblem,
    InvalidAuthorizationDetailsError,
    InvalidRequestError,
    InvalidTargetError,
)
from ..form import RequestProblem
from ..policy import choose_resource_server, client_requires_par, type_catalogue
from .context import context_of, through_our_endpoints

#: The authorization request's parameters (RFC 6749 §4.1.1, RFC 9126 §2.1): docs/protocol.md's table.
AUTHORIZATION = parameters.Endpoint(
    "authorization", "authorization request", parameters.AUTHORIZATION_REQUEST
)


def _raise(problem: AuthorizationDetailsProblem, request) -> None:
    if problem.error == "invalid_target":
        raise InvalidTargetError(description=problem.description, request=request) from problem
    if problem.error == "invalid_request":
        raise InvalidRequestError(description=problem.description, request=request) from problem
    if problem.error == "server_error":
        raise oauthlib_errors.ServerError(description=problem.description, request=request) from problem
    raise InvalidAuthorizationDetailsError(description=problem.description, request=request) from problem


def check_parameters(request) -> None:
    """RFC 6749 §3.1: each parameter at most once (RFC 8707 ``resource`` may repeat) and well formed,
    as :mod:`rar_provider.parameters` says (the error is the table's, e.g. ``invalid_request``)."""
    pairs = request_pairs(request)
    try:
        parameters.check(AUTHORIZATION, pairs, presence=False)
    except RequestProblem as problem:
        raise oauthlib_errors.CustomOAuth2Error(
            error=problem.error, description=problem.description, request=request
        ) from problem


def check_single_valued(request) -> None:
    """RFC 6749 §3.1: request parameters must not be included more than once (token requests)."""
    for name in sorted(request.duplicate_params):
        if name != "resource":
            raise InvalidRequestError(description=f"{name} was sent more than once.", request=request)


def check_redirect_uri_sent(request) -> None:
    """FAPI 2.0 §5.3.1.2 / RFC 9700 §2.1: ``redirect_uri`` is always sent, never defaulted."""
    if vars(request).get("using_default_redirect_uri"):  # set by oauthlib, not by the client
        raise oauthlib_errors.InvalidRequestFatalError(
            description="redirect_uri is required.", request=request
        )


def check_response_type(request) -> None:
    """RFC 6749 §4.1.2.1: a response type the server does not offer (``response_types_supported``,
    i.e. only ``code``) is ``unsupported_response_type``, whatever the client is registered for."""
    response_type = getattr(request, "response_type", None)
    if response_type is not None and response_type not in parameters.RESPONSE_TYPES_SUPPORTED:
        raise oauthlib_errors.UnsupportedResponseTypeError(
            description=f"response_type {response_type[:40]!r} is not supported; use 'code'.",
            request=request,
        )


def check_redirect_uri_exact(request) -> None:
    """RFC 9700 §4.1.3 / §2.1: the redirect URI is compared to the registered ones as exact strings.

    DOT also accepts any port on a loopback URI (RFC 8252 §7.3, for native apps);
    ``EXACT_REDIRECT_URI = False`` keeps that behaviour.
    """
    if not rar_settings.EXACT_REDIRECT_URI:
        return
    requested = getattr(request, "redirect_uri", None)
    if requested and requested not in request.client.redirect_uris.split():
        raise oauthlib_errors.MismatchingRedirectURIError(
            description="redirect_uri is not one of the registered redirect URIs (compared exactly).",
            request=request,
        )


#: Parameters only rar_provider's authorization endpoint can honour: the consent page shows the
#: details, a request_uri is resolved there (RFC 9126 §4), and a code is bound to a DPoP key only
#: when it is issued under a grant (RFC 9449 §10).
OUR_ENDPOINT_ONLY = ("authorization_details", "request_uri", "dpop_jkt")


def check_endpoint(request) -> None:
    """RFC 9396 §3: details are granted only after our consent page showed them.

    DOT's own ``AuthorizationView`` (``oauth2_provider.urls``) or any other caller
    of the server classes shows scopes only; a request of theirs carrying
    ``authorization_details`` (or a ``request_uri``) is refused rather than
    granted unseen. Our endpoints mark their requests (:func:`.context.through_our_endpoints`).
    """
    if through_our_endpoints(request):
        return
    for name in OUR_ENDPOINT_ONLY:
        if getattr(request, name, None) is not None:
            raise InvalidRequestError(
                description=f"{name} needs rar_provider's authorization endpoint: this endpoint does not "
                + (
                    "bind codes to DPoP keys."
                    if name == "dpop_jkt"
                    else "show authorization details for consent."
                ),
                request=request,
            )


def check_par_required(request) -> None:
    """RFC 9126 §5: a client (or server) that requires PAR refuses front-channel requests."""
    if context_of(request).pushed:
        return
    if client_requires_par(request.client):
        raise InvalidRequestError(
            description="Pushed authorization requests are required: push this request to the PAR "
            "endpoint first and send only client_id and request_uri here.",
            request=request,
        )


def check_pkce_method(request) -> None:
    """RFC 7636 §4.3 / RFC 9700 §2.1.1: accept only S256 (``plain`` is refused up front)."""
    method = getattr(request, "code_challenge_method", None)
    if request.code_challenge is None:
        if method:
            raise InvalidRequestError(
                description="code_challenge_method was sent without code_challenge.", request=request
            )
        return
    if rar_settings.PKCE_S256_ONLY and method != "S256":
        raise InvalidRequestError(
            description=f"code_challenge_method must be S256 (got {method or 'none, meaning plain'}).",
            request=request,
        )


def requested_resources(request) -> list[str]:
    """RFC 8707 §2: every ``resource`` value (oauthlib keeps only the last of repeated ones)."""
    values = [value for key, value in request_pairs(request) if key == "resource"]
    if not values and isinstance(getattr(request, "resource", None), str):
        values = [request.resource]
    return values


def validate_details(details: list[dict], resource_server, client, *, on_behalf_of_user: bool):
    """RFC 9396 §5: each type known to the API and allowed to the client, common fields, schema.

    ``on_behalf_of_user`` picks the API's user (authorization code) or client
    (client credentials) access policy. Returns the type catalogue.
    """
    if resource_server is None:
        raise AuthorizationDetailsProblem(
            "no API could be chosen for authorization_details: send the audience or resource parameter"
        )
    catalogue = type_catalogue(resource_server, client, on_behalf_of_user=on_behalf_of_user)
    catalogue.check(details)
    check_common_fields(details)
    for index, detail in enumerate(details):
        schema = catalogue.types[detail["type"]].json_schema
        if schema:
            validate_against_schema(index, detail, schema)
    return catalogue


def request_pairs(request) -> tuple[tuple[str, str], ...]:
    """The request's query and body parameters as ``(name, value)`` pairs, parsed once per request.

    oauthlib parses its ``uri_query_params`` again on every access; the steps read them several times.
    """
    cached = vars(request).get("_rar_pairs")
    if cached is None:
        cached = tuple(request.uri_query_params or ()) + tuple(getattr(request, "decoded_body", None) or ())
        request._rar_pairs = cached
    return cached


def check_details_request(request, *, on_behalf_of_user: bool) -> None:
    """Parse and validate ``authorization_details``, choose the API, record both in the context.

    The chosen API becomes the request's RFC 8707 resource, so DOT binds the
    code and tokens to it (their ``resource``; ``aud`` in introspection). oauthlib's second pass
    over the same parameters (the code being issued) reuses the first pass's result.
    """
    context = context_of(request)
    pairs = request_pairs(request)
    if context.validated_pairs is None or context.validated_pairs != pairs:
        raw = getattr(request, "authorization_details", None)
        try:
            details = parse_authorization_details(raw, rar_settings.limits)
            audience = getattr(request, "audience", None)
            resources = requested_resources(request)
            resource_server = (
                choose_resource_server(audience, resources) if (details or audience or resources) else None
            )
            catalogue = (
                validate_details(
                    details, resource_server, request.client, on_behalf_of_user=on_behalf_of_user
                )
                if details
                else None
            )
        except AuthorizationDetailsProblem as problem:
            _raise(problem, request)
        context.requested = details
        context.validated_pairs = pairs
        context.record(details, resource_server, catalogue.types if catalogue else None)
    else:
        context.record(context.requested, context.resource_server, context.detail_types)
    if context.resource_server is not None:
        request.resource = [context.resource_server.identifier]


def check_authorization_details(request) -> None:
    """RFC 9396 §2, §5 and RFC 8707 §2: parse, limits, API, type known and allowed, common
    fields, the type's schema (on behalf of a user: the API's user access policy)."""
    check_details_request(request, on_behalf_of_user=True)


def apply_user_approval(request) -> None:
    """RFC 9396 §3 (RAR-09): keep only the entries the user approved.

    The consent view puts the approved indices (checked against the signed
    request) in the context; the details themselves always come from
    the validated request, never from the form.
    """
    context = context_of(request)
    if context.approved is None:
        return
    context.details = [context.requested[index] for index in context.approved]


#: Run right after oauthlib has checked client_id and redirect_uri, before any
#: error could be redirected: an error redirect only ever goes to an exact match.
#: A request that did not come through our endpoints is refused details before anything else
#: (after the exact redirect URI check, which decides whether an error may be redirected).
PRE_STEPS: tuple[Callable[[Any], None], ...] = (
    check_redirect_uri_exact,
    check_endpoint,
    check_redirect_uri_sent,
    check_response_type,
)

STEPS: tuple[Callable[[Any], None], ...] = (
    check_parameters,
    check_par_required,
    check_pkce_method,
    check_authorization_details,
    fapi.check_authorization_request,
    apply_user_approval,
)


def validate_redirect(request) -> dict[str, Any]:
    """oauthlib ``pre_auth`` validator: the checks that must precede any error redirect."""
    for step in PRE_STEPS:
        step(request)
    return {}


def validate_authorization_request(request) -> dict[str, Any]:
    """oauthlib ``post_auth`` validator: run every step; add the result to the credentials."""
    for step in STEPS:
        step(request)
    context = context_of(request)
    return {
        "authorization_details": context.details,
        "resource_server": context.resource_server,
        "detail_types": context.detail_types,
    }
