"""Client authentication for every back-channel endpoint: the validator's public hooks.

PAR and introspection (:mod:`rar_provider.views.client_auth`), the token endpoint and revocation
(oauthlib) all call the validator's ``client_authentication_required`` and ``authenticate_client``;
this mixin is therefore the one place that decides how a client may authenticate:

- ``private_key_jwt`` (RFC 7523 §2.2, §3; OpenID Connect Core §9): ``client_assertion_type`` =
  :data:`~rar_provider.client_assertions.ASSERTION_TYPE` and ``client_assertion``, verified by
  :mod:`rar_provider.client_assertions`; ``client_id`` is optional beside them;
- a client secret, HTTP Basic or in the body (DOT's checks), unless the client's policy names
  another method.

``ClientPolicy.token_endpoint_auth_method`` (empty: a secret, either way) is enforced before any
secret is checked: a ``private_key_jwt`` client's secret is refused even when right. Every refusal
is ``invalid_client`` with a description (RFC 6749 §5.2). The client is read once, with its policy
(``select_related``), and DOT reuses it (``request.client``).
"""

from __future__ import annotations

from oauth2_provider.models import get_application_model
from oauthlib.oauth2.rfc6749 import errors as oauthlib_errors

from .. import client_assertions, form
from ..models import TokenEndpointAuthMethod

ASSERTION_PARAMETERS = ("client_assertion", "client_assertion_type")
SECRET_METHODS = (TokenEndpointAuthMethod.CLIENT_SECRET_BASIC, TokenEndpointAuthMethod.CLIENT_SECRET_POST)


def assertion_sent(request) -> bool:
    """Did the (oauthlib) request carry either client assertion parameter?"""
    return any(getattr(request, name, None) is not None for name in ASSERTION_PARAMETERS)


def basic_client_id(request) -> str | None:
    """The client_id of the request's HTTP Basic credentials (None without Basic, or unreadable)."""
    header = (getattr(request, "headers", None) or {}).get("HTTP_AUTHORIZATION", "") or ""
    try:
        credentials = form.parse_basic(header)
    except form.RequestProblem:
        return None
    return credentials.client_id if credentials is not None else None


def registered_method(client) -> str:
    """The client's ``token_endpoint_auth_method`` ("" for a client without a policy)."""
    policy = getattr(client, "rar_policy", None)
    return policy.token_endpoint_auth_method if policy is not None else ""


def method_allowed(registered: str, used: str) -> bool:
    """May a client registered with ``registered`` authenticate with ``used``?"""
    if registered == TokenEndpointAuthMethod.ANY_SECRET:
        return used in SECRET_METHODS
    return registered == used


def refuse(description: str, request):
    return oauthlib_errors.InvalidClientError(description=description, request=request)


class ClientAuthenticationMixin:
    """``client_authentication_required`` / ``authenticate_client`` with private_key_jwt and the
    client's registered method (module docstring)."""

    def load_client(self, client_id, request):
        """The usable client ``client_id`` with its policy, set as ``request.client`` (one query)."""
        client = getattr(request, "client", None)
        if client is not None and getattr(client, "client_id", None) == client_id:
            return client
        if not isinstance(client_id, str) or not client_id:
            return None
        try:
            client = (
                get_application_model()
                .objects.select_related("rar_policy")
                .filter(client_id=client_id)
                .first()
            )
        except ValueError:  # a client_id the database cannot represent (a NUL on PostgreSQL)
            return None
        if client is None or not client.is_usable(request):
            return None
        request.client = client
        return client

    def client_authentication_required(self, request, *args, **kwargs):
        """A request with a client assertion always authenticates (even a public client's)."""
        if assertion_sent(request):
            return True
        self.load_client(basic_client_id(request) or getattr(request, "client_id", None), request)
        return super().client_authentication_required(request, *args, **kwargs)

    def authenticate_client(self, request, *args, **kwargs):
        """RFC 6749 §2.3 / RFC 7523 §3: the method the client registered, and only that."""
        basic = basic_client_id(request)
        if assertion_sent(request):
            if basic is not None or getattr(request, "client_secret", None) is not None:
                raise refuse("Use one client authentication method: a client assertion or a secret.", request)
            request.client = self.authenticate_with_assertion(request)
            request.client_id = request.client.client_id
            return True
        used = SECRET_METHODS[0] if basic is not None else SECRET_METHODS[1]
        client = self.load_client(basic or getattr(request, "client_id", None), request)
        if client is not None:
            registered = registered_method(client)
            if not method_allowed(registered, used):
                raise refuse(
                    f"Client {client.client_id!r} is registered for "
                    f"{registered or 'client_secret_basic or client_secret_post'}; {used} is refused.",
                    request,
                )
        return super().authenticate_client(request, *args, **kwargs)

    def authenticate_with_assertion(self, request):
        """The client a valid ``client_assertion`` authenticates, or ``InvalidClientError``."""
        assertion_type = getattr(request, "client_assertion_type", None)
        assertion = getattr(request, "client_assertion", None)
        if assertion_type != client_assertions.ASSERTION_TYPE:
            raise refuse(
                f"client_assertion_type must be {client_assertions.ASSERTION_TYPE} (RFC 7523 §2.2).", request
            )
        if not assertion:
            raise refuse("client_assertion is required with client_assertion_type.", request)
        client_id = getattr(request, "client_id", None)
        claimed = client_assertions.claimed_client_id(assertion)
        if client_id and claimed is not None and claimed != client_id:
            raise refuse(
                f"client_assertion's sub {claimed[:80]!r} is not client_id {client_id[:80]!r}.", request
            )
        client = self.load_client(client_id or claimed, request)
        if client is None:
            raise refuse("client_assertion does not name a registered client in sub.", request)
        registered = registered_method(client)
        if registered != TokenEndpointAuthMethod.PRIVATE_KEY_JWT:
            raise refuse(
                f"Client {client.client_id!r} is not registered for private_key_jwt "
                f"({registered or 'client_secret_basic or client_secret_post'}).",
                request,
            )
        try:
            client_assertions.verify(assertion, client, request)
        except client_assertions.ClientJWTError as error:
            raise refuse(error.description, request) from None
        return client
