"""The token endpoint: DOT's view behind the strict request step (RFC 6749 §3.2, §5.1, §5.2).

:class:`~rar_provider.views.endpoint.OAuthEndpointMixin` refuses malformed
requests and grant types the server does not offer (``unsupported_grant_type``,
before DOT's device-code branch could read a missing ``device_code``), and
gives every answer JSON, ``no-store`` and the right ``WWW-Authenticate``.
"""

from __future__ import annotations

from django.utils.decorators import method_decorator
from oauth2_provider import views as dot_views

from ..ratelimit import rate_limited
from .endpoint import OAuthEndpointMixin


@method_decorator(rate_limited("token"), name="dispatch")
class TokenView(OAuthEndpointMixin, dot_views.TokenView):
    endpoint = "token"
