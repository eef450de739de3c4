"""The revocation endpoint (RFC 7009): DOT's view, announcing each answered request."""

from __future__ import annotations

from oauth2_provider import views as dot_views

from .. import signals


class RevokeTokenView(dot_views.RevokeTokenView):
    """DOT's ``RevokeTokenView``; a 200 answer sends ``signals.token_revocation_requested``."""

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        if response.status_code == 200:
            signals.token_revocation_requested.send(sender=self.__class__, request=request)
        return response
