"""The token endpoint: DOT's view behind the strict request step (RFC 6749 §3.2, §5.1, §5.2).

:class:`~rar_provider.views.endpoint.OAuthEndpointMixin` refuses malformed
requests and grant types the server does not offer (``unsupported_grant_type``,
before DOT's device-code branch could read a missing ``device_code``), and
gives every answer JSON, ``no-store`` and the right ``WWW-Authenticate``.
"""

from __future__ import annotations

import json

from django.http import HttpResponse, JsonResponse
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters
from oauth2_provider import views as dot_views
from oauth2_provider.models import get_access_token_model
from oauth2_provider.signals import app_authorized

from ..dpop import DPoPProblem
from ..dpop import binding as dpop
from ..models import sha256_hex
from ..oauth.validator import ISSUED, IssuedTokens
from ..ratelimit import rate_limited
from ..transactions import TransactionConflict, atomic_with_retry
from .endpoint import OAuthEndpointMixin

#: Grants whose request is answered in one transaction: what they read is locked until they commit.
ATOMIC_GRANT_TYPES = frozenset({"authorization_code", "refresh_token"})


@method_decorator(rate_limited("token"), name="dispatch")
class TokenView(OAuthEndpointMixin, dot_views.TokenView):
    """DOT's token view behind the strict step; a code exchange or a refresh runs in one transaction.

    RFC 6749 §4.1.2: a code is used once. In one transaction the code's grant is locked before the
    code is read (:mod:`rar_provider.oauth.code_exchange`), so concurrent exchanges of one code
    queue: the first wins; each later one finds the code redeemed, revokes its grant and answers
    ``invalid_grant`` — and since oauthlib answers errors rather than raising them, that revocation
    commits. A refresh locks its grant, then its token, in the order revocation does
    (:mod:`rar_provider.grants.lifecycle`). A transaction the database aborts (deadlock,
    serialization failure) is run again (:mod:`rar_provider.transactions`); if it keeps failing the
    answer is ``503 temporarily_unavailable``, never a 500. A ``DPoP`` proof (RFC 9449 §5) binds
    what is issued to its key (:mod:`rar_provider.dpop.binding`).
    """

    endpoint = "token"

    def post(self, request, *args, **kwargs):
        """RFC 9449 §5: a ``DPoP`` proof is checked first (once, its ``jti`` spent), then the grant."""
        try:
            dpop.verify_token_request(request)
        except DPoPProblem as problem:
            return dpop.error_response(problem)
        response = self.respond(request, *args, **kwargs)
        dpop.finish_token_response(response)
        return response

    def respond(self, request, *args, **kwargs):
        if request.POST.get("grant_type") not in ATOMIC_GRANT_TYPES:
            return super().post(request, *args, **kwargs)
        try:
            return atomic_with_retry(lambda: super(TokenView, self).post(request, *args, **kwargs))
        except TransactionConflict:
            response = JsonResponse(
                {
                    "error": "temporarily_unavailable",
                    "error_description": "The server is busy with this grant; retry the request.",
                },
                status=503,
            )
            response["Retry-After"] = "1"
            response["Cache-Control"] = "no-store"
            return response

    @method_decorator(sensitive_post_parameters("password", "client_secret"))
    def authorization_flow_token_response(self, request, *args, **kwargs):
        """DOT's, without reading the new access token back: the validator hands over the row it
        created (under :data:`rar_provider.oauth.validator.ISSUED`) for DOT's ``app_authorized``."""
        sink = IssuedTokens()
        request.META[ISSUED] = sink
        try:
            _url, headers, body, status = self.create_token_response(request)
        finally:
            del request.META[ISSUED]
        value = json.loads(body).get("access_token") if status == 200 else None
        if value is not None:
            token = sink.access_token
            if token is None:  # created by another validator: read it back, as DOT does
                token = get_access_token_model().objects.get(token_checksum=sha256_hex(value))
            app_authorized.send(sender=self, request=request, token=token)
        response = HttpResponse(content=body, status=status)
        for key, value in headers.items():
            response[key] = value
        return response
