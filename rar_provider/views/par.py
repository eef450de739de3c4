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
from ..errors import describe
from ..ratelimit import rate_limited
from .client_auth import EndpointError, authenticate_client
from .oauth import get_server, request_uri_for

#: Client authentication parameters (RFC 6749 §2.3.1): they authenticate the
#: push and are not part of the authorization request that is stored.
CLIENT_AUTH_PARAMS = frozenset({"client_secret", "client_assertion", "client_assertion_type"})
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


class PARError(EndpointError):
    """An error of the PAR endpoint (RFC 9126 §2.3)."""


@method_decorator(csrf_exempt, name="dispatch")
@method_decorator(login_not_required, name="dispatch")
@method_decorator(rate_limited("par"), name="dispatch")
class PushedAuthorizationRequestView(View):
    """RFC 9126 §2.1: authenticate the client, validate the request as /authorize would, store it."""

    http_method_names = ["post"]

    def dispatch(self, request, *args, **kwargs):
        if not rar_settings.PAR_ENABLED:
            raise Http404("Pushed authorization requests are disabled.")
        return super().dispatch(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        try:
            return self.push(request)
        except PARError as error:
            return error.response()

    def push(self, request) -> JsonResponse:
        content_type = request.content_type or ""
        if content_type != FORM_CONTENT_TYPE:
            raise PARError(
                "invalid_request",
                f"The request body must be {FORM_CONTENT_TYPE} (got {content_type or 'none'}).",
            )
        pairs = [(key, value) for key, values in request.POST.lists() for value in values]
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
        client_ids = request.POST.getlist("client_id")
        if not client_ids:
            raise PARError("invalid_request", "client_id is required.")
        if len(client_ids) > 1:
            raise PARError("invalid_request", "client_id was sent more than once.")
        if client_ids[0] != client.client_id:
            raise PARError("invalid_request", "client_id does not match the authenticated client.")

        stored_pairs = [(key, value) for key, value in pairs if key not in CLIENT_AUTH_PARAMS]
        try:
            _scopes, credentials = server.validate_authorization_request(
                request_uri_for(request.path, stored_pairs), pushed=True
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
        response = JsonResponse(
            {"request_uri": request_uri, "expires_in": rar_settings.PAR_LIFETIME}, status=201
        )
        response["Cache-Control"] = "no-store"
        response["Pragma"] = "no-cache"
        return response

    def authenticate_client(self, request, server):
        """RFC 9126 §2.1: authenticate exactly as at the token endpoint (RFC 6749 §2.3, §3.2.1)."""
        if not request.POST.get("client_id") and "HTTP_AUTHORIZATION" not in request.META:
            raise PARError("invalid_request", "client_id is required.")
        try:
            return authenticate_client(request, server)
        except EndpointError as error:
            raise PARError(error.error, error.description, error.status) from error
