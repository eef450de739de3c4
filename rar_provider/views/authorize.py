"""The authorization endpoint: front-channel and pushed requests, login, consent.

GET   validates the request (from ``request_uri`` when pushed, RFC 9126 §4;
      else from the query), sends an anonymous user to log in, then shows the
      consent page.
POST  is the user's decision. The validated request is not re-listed in
      hidden fields: one signed, user-bound ``transaction`` field carries it
      (and, for a pushed request, the PAR record), and it is validated again
      before a code is issued.

Every authorization response carries ``iss`` (RFC 9207). Errors go to the
client's redirect URI only once client and redirect URI are known good
(RFC 6749 §4.1.2.1); otherwise a 400 page is shown.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlparse

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.core import signing
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.functional import cached_property
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_deny
from oauth2_provider.compat import login_not_required
from oauth2_provider.http import OAuth2ResponseRedirect
from oauth2_provider.models import get_access_token_model, get_application_model
from oauth2_provider.scopes import get_scopes_backend
from oauth2_provider.settings import oauth2_settings
from oauthlib.oauth2.rfc6749 import errors as oauthlib_errors

from .. import consents, decisions, form, hooks, par, signals
from ..conf import rar_settings
from ..consent import build_detail_views
from ..errors import InvalidRequestUriError, describe
from ..models import PushedAuthorizationRequest, hash_reference
from ..oauth import trusted
from ..oauth.responses import error_redirect_uri, with_issuer
from ..parameters import AUTHORIZE
from .oauth import get_server, request_uri_for

TRANSACTION_SALT = "rar_provider.consent"
ACTIVATED_SESSION_KEY = "rar_provider.activated_requests"
#: Form fields of partial approval: the marker that checkboxes were shown, and the approved indices.
CHOOSE_FIELD = "choose_details"
APPROVE_FIELD = "approve_detail"


class PageError(Exception):
    """An error shown on a 400 page: there is no safe redirect URI (RFC 6749 §4.1.2.1)."""

    def __init__(self, error: str, description: str):
        super().__init__(description)
        self.error, self.description = error, description


@dataclass
class AuthorizationRequest:
    """The parameters that count for this request, and where they came from."""

    pairs: list[tuple[str, str]]
    record: PushedAuthorizationRequest | None = None
    pending_error: oauthlib_errors.OAuth2Error | None = None
    back: str | None = None  # where the consent page was shown (a step-up comes back there)
    decision: str = ""  # the consent page's decision id (rar_provider.decisions)

    @property
    def pushed(self) -> bool:
        return self.record is not None


@dataclass
class Validated:
    scopes: list[str]
    credentials: dict
    application: object
    details: list[dict] = field(default_factory=list)


@method_decorator([never_cache, xframe_options_deny, login_not_required], name="dispatch")
class AuthorizationView(View):
    template_name = "rar_provider/consent.html"
    error_template_name = "rar_provider/error.html"
    http_method_names = ["get", "post"]

    @cached_property
    def server(self):
        """One oauthlib server (and validator) per request."""
        return get_server()

    def dispatch(self, request, *args, **kwargs):
        try:
            response = super().dispatch(request, *args, **kwargs)
        except PageError as error:
            response = self.error_page(error.error, error.description)
        except RedirectError as exc:
            response = self.redirect_validation_error(exc.error)
        response["Content-Security-Policy"] = "frame-ancestors 'none'"
        return response

    # -- GET: validate, log in, ask ---------------------------------------------------------
    def get(self, request, *args, **kwargs):
        auth = self.read_query(request)
        validated = self.validate(auth)
        if auth.pending_error is not None:
            return self.redirect_error(validated, auth.pending_error)
        silent = "none" in prompts(auth)
        if auth.record is not None and not silent:
            self.remember_activation(auth.record)
        if not request.user.is_authenticated:
            if silent:  # OIDC Core §3.1.2.6: prompt=none never shows a page
                return self.redirect_error(
                    validated, _silent_error("login_required", "The user is not logged in.")
                )
            return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)

        signals.authorization_requested.send(
            sender=self.__class__,
            request=request,
            user=request.user,
            client=validated.application,
            authorization_details=validated.details,
            resource_server=validated.credentials.get("resource_server"),
        )
        outcome = self.run_hooks(validated, validated.details)
        if isinstance(outcome, hooks.StepUp):
            if silent:
                return self.redirect_error(
                    validated, _silent_error("interaction_required", "The user must confirm who they are.")
                )
            self.step_up_required(validated, validated.details)
            return redirect(outcome.redirect_url(request.get_full_path()))
        if isinstance(outcome, hooks.Refuse):
            if auth.record is not None:
                par.consume(auth.record)
            return self.redirect_error(
                validated, oauthlib_errors.AccessDeniedError(description=outcome.description)
            )
        if self.may_skip_consent(validated):
            if auth.record is not None and not par.consume(auth.record):
                return self.redirect_error(validated, self.used_error())
            return self.issue_code(auth, validated)[0]
        covering = None if "consent" in prompts(auth) else self.covering_consent(validated)
        if covering is not None:
            # Standard consent policy: a stored consent covers this request (RFC 9396 §6.1 comparison).
            if auth.record is not None and not par.consume(auth.record):
                return self.redirect_error(validated, self.used_error())
            return self.issue_code(auth, validated, consent=covering)[0]
        if silent:
            return self.redirect_error(
                validated, _silent_error("consent_required", "The user must approve this request.")
            )
        return self.render_consent(auth, validated)

    def read_query(self, request) -> AuthorizationRequest:
        """RFC 9126 §4: with request_uri only the pushed parameters count (PAR-13).

        The query is read strictly first (:func:`rar_provider.form.parse_form`: UTF-8, no NUL);
        a query that cannot be read is a 400 page. Repeated parameters of a front-channel request
        are refused by the pipeline (redirected once client and redirect URI are known good).
        """
        try:
            pairs = form.parse_form(
                request.META.get("QUERY_STRING", ""),
                max_fields=settings.DATA_UPLOAD_MAX_NUMBER_FIELDS,
                check_repeats=False,
            )
            query = dict(pairs)
            request_uri = query.get("request_uri")
            if request_uri is not None:
                form.check_repeated(pairs, AUTHORIZE.repeatable)
        except form.RequestProblem as problem:
            raise PageError(problem.error, problem.description) from problem
        if request_uri is None:
            return AuthorizationRequest(pairs=pairs)
        try:
            resolution = par.resolve(
                request_uri, query.get("client_id"), activated=self.is_activated(request_uri)
            )
        except par.RequestUriNotFound as error:
            raise PageError("invalid_request_uri", error.description) from error
        record = resolution.record
        return AuthorizationRequest(
            pairs=[tuple(pair) for pair in record.parameters], record=record, pending_error=resolution.error
        )

    # A pushed request opened before it expired stays usable by this browser while the
    # user logs in and reads the consent page (RFC 9126 §4 leaves this to the server).
    def is_activated(self, request_uri: str) -> bool:
        deadline = self.request.session.get(ACTIVATED_SESSION_KEY, {}).get(hash_reference(request_uri))
        return bool(deadline and deadline > time.time())

    def remember_activation(self, record: PushedAuthorizationRequest) -> None:
        now = time.time()
        activated = {
            key: deadline
            for key, deadline in self.request.session.get(ACTIVATED_SESSION_KEY, {}).items()
            if deadline > now
        }
        activated.setdefault(record.reference_hash, now + rar_settings.CONSENT_MAX_AGE)
        self.request.session[ACTIVATED_SESSION_KEY] = activated

    def validate(self, auth: AuthorizationRequest) -> Validated:
        """Run oauthlib's checks and our pipeline; raise PageError or RedirectError."""
        try:
            scopes, credentials = self.server.validate_authorization_request(
                request_uri_for(self.request.path, auth.pairs), pushed=auth.pushed
            )
        except oauthlib_errors.FatalClientError as error:
            raise PageError(error.error, describe(error)) from error
        except oauthlib_errors.OAuth2Error as error:
            raise RedirectError(error) from error
        application = credentials["request"].client
        return Validated(
            scopes=list(scopes or []),
            credentials=credentials,
            application=application,
            details=credentials.get("authorization_details") or [],
        )

    def may_skip_consent(self, validated: Validated) -> bool:
        """``skip_authorization`` and ``approval_prompt=auto`` compare scopes only, so they
        never apply to a request with authorization_details (RFC 9396 §3: details are consented)."""
        if validated.details:
            return False
        application = validated.application
        if application.skip_authorization:
            return True
        approval_prompt = dict(validated_pairs(validated)).get(
            "approval_prompt", oauth2_settings.REQUEST_APPROVAL_PROMPT
        )
        if approval_prompt != "auto":
            return False
        tokens = get_access_token_model().objects.filter(
            user=self.request.user, application=application, expires__gt=timezone.now()
        )
        return any(token.allow_scopes(validated.scopes) for token in tokens)

    def run_hooks(self, validated: Validated, details: list[dict]) -> hooks.Decision:
        """The project's consent hooks (``CONSENT_HOOKS``): allow, refuse or step up (RAR-17)."""
        return hooks.run_consent_hooks(
            self.request,
            self.request.user,
            validated.application,
            validated.credentials.get("resource_server"),
            details,
            validated.scopes,
        )

    def step_up_required(self, validated: Validated, details: list[dict]) -> None:
        signals.step_up_required.send(
            sender=self.__class__,
            request=self.request,
            user=self.request.user,
            client=validated.application,
            authorization_details=details,
        )

    def covering_consent(self, validated: Validated):
        resource_server = validated.credentials.get("resource_server")
        return consents.find_covering_consent(
            self.request.user, validated.application, resource_server, validated.details, validated.scopes
        )

    @staticmethod
    def partial_approval(validated: Validated) -> bool:
        """The user may untick entries: the API allows it and there is more than one entry."""
        resource_server = validated.credentials.get("resource_server")
        return bool(resource_server and resource_server.allow_partial_approval and len(validated.details) > 1)

    def render_consent(self, auth: AuthorizationRequest, validated: Validated):
        signed = signing.dumps(
            {
                "pairs": auth.pairs,
                "par": auth.record.pk if auth.record else None,
                "user": self.request.user.pk,
                "back": self.request.get_full_path(),
                "decision": decisions.new_decision_id(),
            },
            salt=TRANSACTION_SALT,
            compress=True,
        )
        all_scopes = get_scopes_backend().get_all_scopes()
        context = {
            "application": validated.application,
            "scopes": [(scope, all_scopes.get(scope, scope)) for scope in validated.scopes if scope],
            "details": build_detail_views(validated.details, validated.credentials.get("detail_types") or {}),
            "resource_server": validated.credentials.get("resource_server"),
            "transaction": signed,
            "redirect_host": _host(validated.credentials.get("redirect_uri")),
            "partial_approval": self.partial_approval(validated),
            "choose_field": CHOOSE_FIELD,
            "approve_field": APPROVE_FIELD,
        }
        signals.consent_shown.send(
            sender=self.__class__,
            request=self.request,
            user=self.request.user,
            client=validated.application,
            authorization_details=validated.details,
            resource_server=validated.credentials.get("resource_server"),
        )
        return render(self.request, self.template_name, context)

    # -- POST: the decision ---------------------------------------------------------------------
    def post(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            raise PageError("access_denied", "You must be logged in to answer an authorization request.")
        auth = self.read_transaction(request)
        validated = self.validate(auth)
        allow = request.POST.get("decision") == "allow"
        approved = self.approved_indices(validated) if allow else []
        granted = [validated.details[index] for index in approved]
        if allow and (granted or not validated.details):
            outcome = self.run_hooks(validated, granted)
            if isinstance(outcome, hooks.StepUp):
                # Not satisfied yet (the form was posted without the step-up): go and do it.
                self.step_up_required(validated, granted)
                return redirect(outcome.redirect_url(auth.back or self.request.path))
        else:
            outcome = None
        if not decisions.decide(auth.decision):
            # The same consent page posted again: one decision, one code (a pushed request says so
            # in its own words, RFC 9126 §4).
            replayed = (
                self.used_error()
                if auth.record is not None
                else oauthlib_errors.InvalidRequestError(
                    description="This authorization request was already answered; a decision is made once."
                )
            )
            return self.redirect_error(validated, replayed)
        if auth.record is not None and not par.consume(auth.record):
            # RFC 9126 §4: a request_uri is used once; the first decision wins.
            return self.redirect_error(validated, self.used_error())
        if not allow:
            signals.authorization_denied.send(
                sender=self.__class__, request=request, user=request.user, client=validated.application
            )
            return self.redirect_error(
                validated, oauthlib_errors.AccessDeniedError(description="The user denied the request.")
            )
        if validated.details and not granted:
            return self.redirect_error(
                validated,
                oauthlib_errors.AccessDeniedError(
                    description="The user approved none of the requested authorization details."
                ),
            )
        if isinstance(outcome, hooks.Refuse):
            return self.redirect_error(
                validated, oauthlib_errors.AccessDeniedError(description=outcome.description)
            )
        with transaction.atomic():
            consent = consents.record_consent(
                request.user,
                validated.application,
                validated.credentials.get("resource_server"),
                validated.scopes,
                granted,
            )
            response, issued = self.issue_code(auth, validated, consent=consent, approved=approved)
            if not issued:
                transaction.set_rollback(True)
        return response

    def approved_indices(self, validated: Validated) -> list[int]:
        """The entries the user approved: indices into the signed request, never details from the form."""
        everything = list(range(len(validated.details)))
        choosing = CHOOSE_FIELD in self.request.POST
        if not choosing:
            return everything
        if not self.partial_approval(validated):
            raise PageError(
                "invalid_request",
                "This request cannot be approved in part (the API does not allow it). Start again from the "
                "application.",
            )
        indices = set()
        for value in self.request.POST.getlist(APPROVE_FIELD):
            if not (value.isascii() and value.isdigit()) or int(value) not in everything:
                raise PageError(
                    "invalid_request",
                    f"{APPROVE_FIELD} must name entries 0 to {len(everything) - 1} of the request, "
                    f"not {value!r}.",
                )
            indices.add(int(value))
        return sorted(indices)

    def read_transaction(self, request) -> AuthorizationRequest:
        try:
            data = signing.loads(
                request.POST.get("transaction", ""),
                salt=TRANSACTION_SALT,
                max_age=rar_settings.CONSENT_MAX_AGE,
            )
        except signing.SignatureExpired as error:
            raise PageError(
                "invalid_request", "This consent page has expired. Start again from the application."
            ) from error
        except signing.BadSignature as error:
            raise PageError("invalid_request", "The consent form is invalid or was tampered with.") from error
        if data.get("user") != request.user.pk:
            raise PageError("invalid_request", "This consent page was opened by another user.")
        record = None
        if data.get("par") is not None:
            record = (
                PushedAuthorizationRequest.objects.select_related("application")
                .filter(pk=data["par"])
                .first()
            )
            if record is None:
                raise PageError("invalid_request_uri", "The pushed authorization request no longer exists.")
        if not isinstance(data.get("decision"), str):
            raise PageError("invalid_request", "The consent form is invalid or was tampered with.")
        return AuthorizationRequest(
            pairs=[tuple(pair) for pair in data["pairs"]],
            record=record,
            back=data.get("back"),
            decision=data["decision"],
        )

    # -- responses --------------------------------------------------------------------------------
    def issue_code(self, auth: AuthorizationRequest, validated: Validated, consent=None, approved=None):
        """Create the authorization code (RFC 6749 §4.1.2) carrying the approved details.

        Returns the response and whether a code was issued. The code is linked
        to ``consent``; ``approved`` (indices) narrows the details to what the
        user approved.
        """
        credentials = {"user": self.request.user, trusted.PUSHED: auth.pushed}
        if consent is not None:
            credentials[consents.CONSENT] = consent.pk
        if approved is not None:
            credentials[trusted.APPROVED] = approved
        granted = validated.details if approved is None else [validated.details[i] for i in approved]
        try:
            headers, _body, _status = self.server.create_authorization_response(
                uri=request_uri_for(self.request.path, auth.pairs),
                http_method="GET",
                scopes=validated.scopes,
                credentials=credentials,
            )
        except oauthlib_errors.FatalClientError as error:
            raise PageError(error.error, describe(error)) from error
        except oauthlib_errors.OAuth2Error as error:
            return self.redirect_error(validated, error), False
        location = headers["Location"]
        issued = "code" in dict(parse_qsl(urlparse(location).query))
        if issued:
            signals.details_granted.send(
                sender=self.__class__,
                request=self.request,
                user=self.request.user,
                client=validated.application,
                authorization_details=granted,
                resource_server=validated.credentials.get("resource_server"),
            )
        response = self.redirect(
            with_issuer(location, rar_settings.issuer(self.request)), validated.application
        )
        return response, issued

    def redirect_error(self, validated: Validated, error: oauthlib_errors.OAuth2Error):
        uri = error_redirect_uri(
            validated.credentials["redirect_uri"],
            error.error,
            describe(error),
            validated.credentials.get("state"),
            rar_settings.issuer(self.request),
        )
        return self.redirect(uri, validated.application)

    def redirect_validation_error(self, error: oauthlib_errors.OAuth2Error):
        """A normal error found while validating: oauthlib has checked client and redirect URI."""
        application = get_application_model().objects.filter(client_id=error.client_id).first()
        if not error.redirect_uri or application is None:
            return self.error_page(error.error, describe(error))
        uri = error_redirect_uri(
            error.redirect_uri, error.error, describe(error), error.state, rar_settings.issuer(self.request)
        )
        return self.redirect(uri, application)

    def redirect(self, uri: str, application):
        # 302, never 307 (RFC 9700 §4.12): the browser must not re-POST the consent form.
        return OAuth2ResponseRedirect(uri, application.get_allowed_schemes())

    def error_page(self, error: str, description: str):
        response = render(
            self.request,
            self.error_template_name,
            {"error": error, "error_description": description},
            status=400,
        )
        response.oauth_error = error  # counted by rar_provider.metrics.OAuthErrorMetricsMiddleware
        return response

    @staticmethod
    def used_error() -> oauthlib_errors.OAuth2Error:
        return InvalidRequestUriError(description="request_uri has already been used.")


class RedirectError(Exception):
    """A normal OAuth error raised while validating: redirect it to the client."""

    def __init__(self, error: oauthlib_errors.OAuth2Error):
        super().__init__(error.description)
        self.error = error


def _silent_error(error: str, description: str) -> oauthlib_errors.OAuth2Error:
    return oauthlib_errors.CustomOAuth2Error(error=error, description=description)


def prompts(auth: AuthorizationRequest) -> list[str]:
    """OIDC Core §3.1.2.1 ``prompt`` values (``none``, ``consent`` …) of the request."""
    return dict(auth.pairs).get("prompt", "").split()


def validated_pairs(validated: Validated) -> list[tuple[str, str]]:
    return list(validated.credentials["request"].uri_query_params)


def _host(uri: str | None) -> str:
    return urlparse(uri).netloc if uri else ""
