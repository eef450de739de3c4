"""The one request-parsing step and the one error renderer of the back-channel endpoints.

PAR (RFC 9126), token (RFC 6749 §3.2), introspection (RFC 7662) and revocation
(RFC 7009) views inherit :class:`OAuthEndpointMixin`. Before the view runs it

1. answers any method but POST with ``405`` (``Allow: POST``);
2. refuses a body over ``RAR_PROVIDER["MAX_REQUEST_BYTES"]`` with ``413``;
3. reads the body strictly (:mod:`rar_provider.form`): form media type, UTF-8
   charset, no content encoding, well-formed escapes, UTF-8 text, no NUL, at
   most ``DATA_UPLOAD_MAX_NUMBER_FIELDS`` fields, no repeated parameter;
4. reads HTTP Basic credentials strictly, and refuses a body ``client_id`` that
   differs from them, or a ``client_secret`` or client assertion sent beside them
   (RFC 6749 §2.3: one method per request);
5. applies the endpoint's table in :mod:`rar_provider.parameters` (single
   values, syntax, required parameters; at the token endpoint, the grant type
   must be one of ``grant_types_supported``).

After the view, every answer is finished the same way: ``Cache-Control:
no-store``; an error is an RFC 6749 §5.2 JSON object (a body that is not is
replaced); a 401 carries a ``WWW-Authenticate`` challenge of the scheme the
client used (``Bearer`` for a bearer token, else ``Basic``: RFC 6749 §5.2,
RFC 6750 §3). An exception is logged and answered ``500 server_error`` JSON.
"""

from __future__ import annotations

import json
import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import connections, transaction
from django.http import HttpResponse, JsonResponse, QueryDict
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_exempt
from oauth2_provider.compat import login_not_required

from .. import form, parameters
from ..conf import rar_settings
from ..errors import default_description
from .oauth import oauth_error_response

logger = logging.getLogger("rar_provider.endpoints")

CLIENT_AUTHENTICATION = frozenset({"client_id", "client_secret", "client_assertion", "client_assertion_type"})


def error_response(error: str, description: str, status: int = 400) -> JsonResponse:
    """An RFC 6749 §5.2 error (the ``WWW-Authenticate`` of a 401 is added by :func:`finish`)."""
    return oauth_error_response(error, description, status)


def problem_response(problem: form.RequestProblem) -> JsonResponse:
    return error_response(problem.error, problem.description, problem.status)


def _challenge(request, error: str, description: str) -> str:
    """RFC 6749 §5.2 / RFC 6750 §3: the challenge of the scheme the client used (Basic by default)."""
    scheme = request.META.get("HTTP_AUTHORIZATION", "").strip().partition(" ")[0].lower()
    # RFC 6750 §3: error_description is printable ASCII without '"' and '\\'.
    escaped = "".join(char if " " <= char <= "~" and char not in '"\\' else "'" for char in description)
    if scheme == "bearer":
        return f'Bearer realm="oauth", error="{error}", error_description="{escaped}"'
    return f'Basic realm="oauth", charset="UTF-8", error="{error}"'


def _error_body(response: HttpResponse) -> dict | None:
    try:
        body = json.loads(response.content or b"null")
    except (ValueError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) and isinstance(body.get("error"), str) else None


def finish(request, response: HttpResponse) -> HttpResponse:
    """Give every answer of a back-channel endpoint the shape RFC 6749 §5.1/§5.2 requires."""
    if response.status_code >= 400:
        body = _error_body(response)
        if body is None:
            server_fault = response.status_code >= 500
            replacement = error_response(
                "server_error" if server_fault else "invalid_request",
                "The server could not complete the request." if server_fault else "The request was refused.",
                response.status_code,
            )
            for header in ("Allow", "WWW-Authenticate", "Retry-After"):
                if header in response:
                    replacement[header] = response[header]
            response, body = replacement, _error_body(replacement)
        elif not body.get("error_description"):
            # RFC 6749 §5.2 makes it optional; our clients always learn what was wrong.
            body["error_description"] = default_description(body["error"])
            replacement = JsonResponse(body, status=response.status_code)
            for header, value in response.items():
                if header.lower() not in ("content-type", "content-length"):
                    replacement[header] = value
            response = replacement
        else:
            response["Content-Type"] = "application/json"
        if response.status_code == 401:
            description = body.get("error_description", "")
            response["WWW-Authenticate"] = _challenge(request, body["error"], description)
    elif response.content and not response.get("Content-Type", "").startswith("application/json"):
        response["Content-Type"] = "application/json"
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    return response


def read_body(request) -> bytes:
    """The raw body, refused with 413 past ``MAX_REQUEST_BYTES`` (checked before reading it)."""
    limit = rar_settings.MAX_REQUEST_BYTES
    too_big = form.RequestProblem(
        f"The request body is larger than {limit} bytes, the most this endpoint accepts.", status=413
    )
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise form.RequestProblem("Content-Length is not a number.") from None
    if declared > limit:
        raise too_big
    try:
        body = request.body
    except RequestDataTooBig:
        raise too_big from None
    if len(body) > limit:
        raise too_big
    return body


def read_form(request, endpoint_key: str) -> list[tuple[str, str]]:
    """Steps 2 to 5 of the module docstring; the parameters as ``(name, value)`` pairs."""
    body = read_body(request)
    if body:  # an empty body has no media type to check; the table then says what is missing
        form.check_content_type(request.META.get("CONTENT_TYPE"), request.META.get("HTTP_CONTENT_ENCODING"))
    # The token endpoint's table is the grant's, known once the body is parsed.
    endpoint = parameters.ENDPOINTS[endpoint_key] if endpoint_key != "token" else None
    pairs = form.parse_form(
        body,
        max_fields=settings.DATA_UPLOAD_MAX_NUMBER_FIELDS,
        repeatable=endpoint.repeatable if endpoint is not None else {"resource"},
    )
    if endpoint is None:
        endpoint = parameters.token_endpoint(pairs)
    check_client_authentication(request, pairs)
    # RFC 9126 §3: with a request object the request's parameters are its claims; the PAR view checks
    # their presence when it has verified it (rar_provider.request_objects).
    signed_request = endpoint.key == "par" and any(name == "request" for name, _ in pairs)
    parameters.check(endpoint, pairs, presence=not signed_request)
    # What the view (and DOT) reads is exactly what was checked: Django would refuse any charset
    # label but "utf-8", and would keep the empty values RFC 6749 §3.1 says to treat as omitted.
    posted = QueryDict(mutable=True)
    for name, value in pairs:
        posted.appendlist(name, value)
    posted._mutable = False
    request.POST = posted
    return pairs


def check_client_authentication(request, pairs: list[tuple[str, str]]) -> None:
    """RFC 6749 §2.3: Basic credentials must be readable, and one method is used per request
    (Basic, ``client_secret`` in the body, or a client assertion, RFC 7523 §2.2)."""
    credentials = form.parse_basic(request.META.get("HTTP_AUTHORIZATION", ""))
    values = dict(pairs)
    assertion = [name for name in ("client_assertion", "client_assertion_type") if name in values]
    if assertion and (credentials is not None or "client_secret" in values):
        raise form.RequestProblem(
            f"The client sent {assertion[0]} and also "
            + ("HTTP Basic credentials" if credentials is not None else "client_secret")
            + ": use one client authentication method (RFC 6749 §2.3)."
        )
    if credentials is None:
        return
    if "client_secret" in values:
        raise form.RequestProblem(
            "The client authenticated with HTTP Basic and also sent client_secret: use one method "
            "(RFC 6749 §2.3)."
        )
    if "client_id" in values and values["client_id"] != credentials.client_id:
        raise form.RequestProblem("client_id does not match the client authenticated with HTTP Basic.")


@method_decorator(csrf_exempt, name="dispatch")
@method_decorator(login_not_required, name="dispatch")
class OAuthEndpointMixin:
    """Parse strictly before the view, render every answer as RFC 6749 §5 says (module docstring).

    ``endpoint`` names the table in :data:`rar_provider.parameters.ENDPOINTS`
    (``"token"``: the table of the request's grant). The view finds the
    parameters in ``self.form`` (pairs, in order) as well as in ``request.POST``.
    """

    endpoint: str = ""
    http_method_names = ["post", "options", "get", "put", "patch", "delete", "head", "trace"]

    def dispatch(self, request, *args, **kwargs):
        try:
            if request.method != "POST":
                response = error_response(
                    "invalid_request", f"This endpoint accepts POST only, not {request.method}.", 405
                )
                response["Allow"] = "POST"
            else:
                self.form = read_form(request, self.endpoint)
                response = super().dispatch(request, *args, **kwargs)
        except form.RequestProblem as problem:
            response = problem_response(problem)
        except Exception:
            logger.exception("Internal error at %s", request.path)
            # Nothing half-written survives: a transaction around the view (ATOMIC_REQUESTS) rolls back.
            for connection in connections.all(initialized_only=True):
                if connection.in_atomic_block:
                    transaction.set_rollback(True, using=connection.alias)
            response = error_response("server_error", "The server could not complete the request.", 500)
        return finish(request, response)
