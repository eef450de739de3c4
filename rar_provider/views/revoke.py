"""Token revocation (RFC 7009): DOT's view behind the strict request step.

DOT (through oauthlib) authenticates the client and revokes an access or
refresh token of that client (a refresh token with its access token); an
unknown token is answered ``200`` (RFC 7009 §2.2). The mixin makes every error
RFC 6749 §5.2 JSON with ``no-store`` and the right challenge on a 401.
"""

from __future__ import annotations

from oauth2_provider import views as dot_views

from .. import signals
from .endpoint import OAuthEndpointMixin


class RevokeTokenView(OAuthEndpointMixin, dot_views.RevokeTokenView):
    """DOT's ``RevokeTokenView`` behind the strict request step; a 200 answer sends
    ``signals.token_revocation_requested``."""

    endpoint = "revoke"

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        if response.status_code == 200:
            signals.token_revocation_requested.send(sender=self.__class__, request=request)
        return response
