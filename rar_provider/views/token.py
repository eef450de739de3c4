"""The token endpoint: DOT's view behind the strict request step (RFC 6749 §3.2, §5.1, §5.2).

:class:`~rar_provider.views.endpoint.OAuthEndpointMixin` refuses malformed
requests and grant types the server does not offer (``unsupported_grant_type``,
before DOT's device-code branch could read a missing ``device_code``), and
gives every answer JSON, ``no-store`` and the right ``WWW-Authenticate``.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.decorators import method_decorator
from oauth2_provider import views as dot_views

from ..ratelimit import rate_limited
from .endpoint import OAuthEndpointMixin

#: Grants whose request is answered in one transaction: what they read is locked until they commit.
ATOMIC_GRANT_TYPES = frozenset({"authorization_code", "refresh_token"})


@method_decorator(rate_limited("token"), name="dispatch")
class TokenView(OAuthEndpointMixin, dot_views.TokenView):
    """DOT's token view behind the strict step; a code exchange or a refresh runs in one transaction.

    RFC 6749 §4.1.2: a code is used once. In one transaction the code's row is locked before it is
    read (:func:`rar_provider.oauth.validator.lock_code`), so concurrent exchanges of one code
    queue: the first wins; each later one finds the code redeemed, revokes the tokens it produced
    and answers ``invalid_grant`` — and since oauthlib answers errors rather than raising them,
    that revocation commits. A refresh locks its consent, then its token
    (:func:`rar_provider.oauth.validator.lock_refresh_token`), in the order revocation does.
    """

    endpoint = "token"

    def post(self, request, *args, **kwargs):
        if request.POST.get("grant_type") in ATOMIC_GRANT_TYPES:
            with transaction.atomic():
                return super().post(request, *args, **kwargs)
        return super().post(request, *args, **kwargs)
