"""The resource-server side, for Django REST framework APIs (RFC 6750, RFC 9068, RFC 9396 §9.1).

* :class:`~rar_provider.drf.authentication.JWTAccessTokenAuthentication` verifies
  the JWT (or JWE) access tokens this server issues, locally;
* :class:`~rar_provider.drf.permissions.HasAuthorizationDetail` requires an
  ``authorization_details`` entry of a type (with actions / locations);
* :class:`~rar_provider.drf.permissions.HasAccessToken` requires any valid token;
* :class:`~rar_provider.drf.parsers.JSONParser` answers over-deep JSON with a 400, not a 500;
* :mod:`~rar_provider.drf.dpop`: DPoP-bound tokens (RFC 9449 §7) are used only with their proof;
  :func:`~rar_provider.drf.dpop.exception_handler` adds the ``DPoP-Nonce`` header (§9).

Inside: :mod:`.config` (the ``RAR_PROVIDER_RESOURCE_SERVER`` setting and the keys it names),
:mod:`.tokens` (the verified token and the refusals), :mod:`.revocation` (is a token still live?).

See docs/resource-server.md. Needs Django REST framework: ``pip install "django-rar-provider[drf]"``.
"""

try:
    import rest_framework  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised in a subprocess by tests/test_packaging.py
    raise ImportError(
        'rar_provider.drf needs Django REST framework: pip install "django-rar-provider[drf]".'
    ) from exc

from .authentication import (
    InvalidBearerRequest,
    InvalidToken,
    JWTAccessTokenAuthentication,
    VerifiedAccessToken,
)
from .dpop import exception_handler
from .parsers import JSONParser
from .permissions import (
    HasAccessToken,
    HasAuthorizationDetail,
    InsufficientAuthorization,
    find_details,
    insufficient_authorization,
)

__all__ = [
    "HasAccessToken",
    "HasAuthorizationDetail",
    "InsufficientAuthorization",
    "InvalidBearerRequest",
    "InvalidToken",
    "JSONParser",
    "JWTAccessTokenAuthentication",
    "VerifiedAccessToken",
    "exception_handler",
    "find_details",
    "insufficient_authorization",
]
