"""The one home for what a host project may customise: the issuer, subjects, and token claims.

Set ``RAR_PROVIDER["ADAPTER"]`` to the dotted path of a subclass of :class:`ProviderAdapter` and
override what you need::

    class BankAdapter(ProviderAdapter):
        def access_token_claims(self, claims, *, user, client, grant, resource_server):
            claims = super().access_token_claims(
                claims, user=user, client=client, grant=grant, resource_server=resource_server
            )
            claims["acr"] = "urn:bank:loa:3"
            return claims

Everything that states the issuer (metadata, authorization responses, JWT ``iss``, introspection,
the DRF guard) asks :meth:`ProviderAdapter.issuer`; JWT access tokens and introspection take their
``sub`` from :meth:`ProviderAdapter.user_subject` / :meth:`ProviderAdapter.client_subject`.
A claim the protocol fixes (RFC 9068 §2.2, RFC 9396 §9) cannot be changed by the adapter:
:func:`access_token_claims` refuses such a change with ``ImproperlyConfigured``.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from .conf import rar_settings

#: Claims rar_provider sets and an adapter may not change (RFC 9068 §2.2; RFC 9396 §9.1; grants).
PROTOCOL_CLAIMS = frozenset(
    {
        "iss",
        "sub",
        "aud",
        "exp",
        "iat",
        "jti",
        "client_id",
        "gty",
        "scope",
        "authorization_details",
        "grant_id",
        "grant_entries",
        "cnf",
    }
)


class ProviderAdapter:
    """The default behaviour; subclass it and name the subclass in ``RAR_PROVIDER["ADAPTER"]``."""

    def issuer(self, request=None) -> str:
        """RFC 8414 §2 issuer identifier, no trailing slash: ``ISSUER``, else the request's origin.

        ``request``: a Django ``HttpRequest`` or the oauthlib request DOT built from one. Raises
        ``ImproperlyConfigured`` when ``ISSUER`` is unset and there is no request.
        """
        return rar_settings.issuer(request)

    def user_subject(self, user) -> str:
        """RFC 9068 §2.2 ``sub`` of a user's token: the text of the user's primary key.

        A project that changes it must change its resource servers' user lookup to match
        (``rar_provider.drf``'s ``get_user``).
        """
        return str(user.pk)

    def client_subject(self, client) -> str:
        """``sub`` of a client's own token (client credentials, RFC 9068 §2.2): its client_id."""
        return client.client_id

    def access_token_claims(
        self, claims: dict[str, Any], *, user, client, grant, resource_server
    ) -> dict[str, Any]:
        """The claims of a JWT access token about to be signed; add your own here (return them).

        ``grant``: the :class:`~rar_provider.models.AuthorizationGrant` (``None`` for client
        credentials); ``resource_server``: the API the token is for.
        """
        return claims

    def introspection_response(self, data: dict[str, Any], *, token) -> dict[str, Any]:
        """An active token's introspection response (RFC 7662 §2.2); add members here (return it)."""
        return data


@lru_cache(maxsize=8)
def _adapter_class(path: str) -> type[ProviderAdapter]:
    adapter = import_string(path)
    if not (isinstance(adapter, type) and issubclass(adapter, ProviderAdapter)):
        raise ImproperlyConfigured(f"RAR_PROVIDER['ADAPTER'] ({path}) is not a subclass of ProviderAdapter.")
    return adapter


def get_adapter() -> ProviderAdapter:
    """An instance of the configured adapter (``RAR_PROVIDER["ADAPTER"]``)."""
    return _adapter_class(rar_settings.ADAPTER)()


def access_token_claims(claims: dict[str, Any], **context) -> dict[str, Any]:
    """The adapter's claims, with every protocol claim as rar_provider set it.

    Raises ``ImproperlyConfigured`` when the adapter changed or removed one of :data:`PROTOCOL_CLAIMS`.
    """
    custom = get_adapter().access_token_claims(dict(claims), **context)
    changed = sorted(
        name
        for name in PROTOCOL_CLAIMS
        if (name in claims) != (name in custom) or custom.get(name) != claims.get(name)
    )
    if changed:
        raise ImproperlyConfigured(
            f"The RAR_PROVIDER['ADAPTER'] may add claims but changed {', '.join(changed)}."
        )
    return custom
