"""The pushed authorization request endpoint (RFC 9126 §2), with signed request objects (§3, RFC 9101)."""

from __future__ import annotations

from django.http import Http404, JsonResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.compat import login_not_required
from oauthlib.oauth2.rfc6749 import errors as oauthlib_errors

from .. import par, parameters, request_objects, signals
from ..adapter import get_adapter
from ..conf import rar_settings
from ..dpop import DPoPProblem, binding
from ..errors import describe
from ..form import RequestProblem
from ..parameters import AUTHORIZATION_PARAMETERS
from ..policy import client_requires_signed_request_object
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
    repeated parameters, the table of :data:`rar_provider.parameters.PAR`). With a ``request``
    parameter (RFC 9126 §3) the request is the verified request object's claims
    (:mod:`rar_provider.request_objects`), checked against the same table and pipeline.
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

        server = get_server()
        client = self.authenticate_client(request, server)
        request_object = None
        if "request" in names:
            request_object = self.read_request_object(request, client, pairs)
            pairs = request_object.pairs
        elif client_requires_signed_request_object(client):
            raise PARError(
                "invalid_request",
                "This client must send its authorization request as a signed request object (the "
                "request parameter, RFC 9101).",
            )
        if "client_id" not in dict(pairs):
            raise PARError("invalid_request", "client_id is required.")
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

        if request_object is not None:
            try:
                request_objects.use_once(request_object, client)
            except request_objects.RequestObjectError as error:
                raise PARError(error.error, error.description) from error
        request_uri, record = par.store(
            application=client,
            parameters=stored_pairs,
            authorization_details=credentials["authorization_details"],
            resource_server=credentials["resource_server"],
        )
        signals.par_pushed.send(sender=self.__class__, request=request, pushed_request=record)
        return JsonResponse({"request_uri": request_uri, "expires_in": rar_settings.PAR_LIFETIME}, status=201)

    def read_request_object(self, request, client, pairs):
        """RFC 9126 §3: the verified request object, its claims checked against the PAR table."""
        try:
            request_object = request_objects.read(
                dict(pairs)["request"], client, issuer=get_adapter().issuer(request), form_pairs=pairs
            )
            parameters.check(parameters.PAR, request_object.pairs)
        except request_objects.RequestObjectError as error:
            raise PARError(error.error, error.description) from error
        except RequestProblem as problem:
            raise PARError(problem.error, f"In the request object: {problem.description}") from problem
        return request_object

    def authenticate_client(self, request, server):
        """RFC 9126 §2.1: authenticate exactly as at the token endpoint (RFC 6749 §2.3, §3.2.1)."""
        identified = request.POST.get("client_id") or "client_assertion" in request.POST
        if not identified and "HTTP_AUTHORIZATION" not in request.META:
            raise PARError("invalid_request", "client_id is required.")
        try:
            return authenticate_client(request, server)
        except EndpointError as error:
            raise PARError(error.error, error.description, error.status) from error
