"""The pushed authorization request endpoint (RFC 9126 §2)."""

from __future__ import annotations

from django.http import Http404, JsonResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.compat import login_not_required
from oauthlib.oauth2.rfc6749 import errors as oauthlib_errors

from .. import par, signals
from ..conf import rar_settings
from ..dpop import DPoPProblem, binding
from ..errors import describe
from ..parameters import AUTHORIZATION_PARAMETERS
from ..ratelimit import rate_limited
from .client_auth import EndpointError, authenticate_client
from .endpoint import OAuthEndpointMixin
from .oauth import get_server, request_uri_for


class PARError(EndpointError):
    """An error of the PAR endpoint (RFC 9126 §2.3)."""


@method_decorator(csrf_exempt, name="dispatch")
@method_decorator(login_not_required, name="dispatch")
@method_decorator(rate_limited("par"), name="dispatch")
class PushedAuthorizationRequestView(OAuthEndpointMixin, View):
    """RFC 9126 §2.1: authenticate the client, validate the request as /authorize would, store it.

    The mixin has read the body strictly (size, media type, charset, NUL,
    repeated parameters, the table of :data:`rar_provider.parameters.PAR`).
    """

    endpoint = "par"

    def dispatch(self, request, *args, **kwargs):
        if not rar_settings.PAR_ENABLED:
            raise Http404("Pushed authorization requests are disabled.")
        return super().dispatch(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        try:
            return self.push(request)
        except PARError as error:
            return error.response()
        except DPoPProblem as problem:
            return binding.error_response(problem)

    def push(self, request) -> JsonResponse:
        pairs = self.form
        names = {key for key, _ in pairs}
        if "request_uri" in names:
            raise PARError(
                "invalid_request", "request_uri must not be sent to the PAR endpoint (RFC 9126 §2.1)."
            )
        if "request" in names:
            raise PARError(
                "request_not_supported", "Request objects (the request parameter) are not supported."
            )

        server = get_server()
        client = self.authenticate_client(request, server)
        if dict(pairs).get("client_id") != client.client_id:
            raise PARError("invalid_request", "client_id does not match the authenticated client.")

        # RFC 6749 §3.1: unknown parameters are ignored; only the authorization request is kept.
        stored_pairs = [(key, value) for key, value in pairs if key in AUTHORIZATION_PARAMETERS]
        stored_pairs = binding.bind_pushed_request(request, stored_pairs)  # DPoP, RFC 9449 §10.1
        try:
            _scopes, credentials = server.validate_authorization_request(
                request_uri_for(request.path, stored_pairs), pushed=True, client=client
            )
        except oauthlib_errors.FatalClientError as error:
            raise PARError(error.error, describe(error), 400) from error
        except oauthlib_errors.OAuth2Error as error:
            raise PARError(error.error, describe(error), error.status_code) from error

        request_uri, record = par.store(
            application=client,
            parameters=stored_pairs,
            authorization_details=credentials["authorization_details"],
            resource_server=credentials["resource_server"],
        )
        signals.par_pushed.send(sender=self.__class__, request=request, pushed_request=record)
        return JsonResponse({"request_uri": request_uri, "expires_in": rar_settings.PAR_LIFETIME}, status=201)

    def authenticate_client(self, request, server):
        """RFC 9126 §2.1: authenticate exactly as at the token endpoint (RFC 6749 §2.3, §3.2.1)."""
        if not request.POST.get("client_id") and "HTTP_AUTHORIZATION" not in request.META:
            raise PARError("invalid_request", "client_id is required.")
        try:
            return authenticate_client(request, server)
        except EndpointError as error:
            raise PARError(error.error, error.description, error.status) from error
