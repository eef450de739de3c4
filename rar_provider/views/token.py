"""The token endpoint: DOT's view, with every answer typed as JSON (RFC 6749 §5.1, §5.2).

oauthlib raises some errors after validation (an RFC 8707 ``resource`` the
grant does not cover, a missing signing key); DOT then answers with the error
JSON but no ``Content-Type``. Clients parse by type, so it is set here.
"""

from __future__ import annotations

from django.utils.decorators import method_decorator
from oauth2_provider import views as dot_views

from ..ratelimit import rate_limited


@method_decorator(rate_limited("token"), name="dispatch")
class TokenView(dot_views.TokenView):
    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        if not response.get("Content-Type", "").startswith("application/json"):
            response["Content-Type"] = "application/json"
        response["Cache-Control"] = "no-store"
        response["Pragma"] = "no-cache"
        return response
