"""The authorization endpoint: front-channel and pushed requests, login, consent (RFC 6749 §4.1).

GET   reads the request (:mod:`rar_provider.authorization.request`: from ``request_uri`` when
      pushed, RFC 9126 §4; else from the query), validates it once, sends an anonymous user to log
      in, then decides (:mod:`rar_provider.authorization.outcome`): step up, refuse, issue a code
      without asking, reuse a stored grant, or show the consent page for a new *pending* grant.
POST  is the user's decision on that pending grant (:mod:`rar_provider.authorization.consent_form`):
      decided once, under lock, in the same transaction that issues the code.

Every authorization response carries ``iss`` (RFC 9207). Errors go to the client's redirect URI
only once client and redirect URI are known good (RFC 6749 §4.1.2.1); otherwise a 400 page.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlparse

from django.conf import settings
from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.utils.functional import cached_property
from django.views import View
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_deny
from oauth2_provider.compat import login_not_required
from oauth2_provider.scopes import get_scopes_backend
from oauthlib.oauth2.rfc6749 import errors as oauthlib_errors

from .. import hooks, par, signals
from ..adapter import get_adapter
from ..authorization import consent_form, outcome
from ..authorization.outcome import Validated
from ..authorization.request import PageError, RedirectError, read_query, remember_activation, used_error
from ..authorization.responses import AuthorizationResponses
from ..consent import build_detail_views
from ..errors import describe
from ..grants import lifecycle
from ..oauth.context import KEY as CONTEXT
from ..oauth.responses import with_issuer
from ..transactions import TransactionConflict, atomic_with_retry
from .oauth import get_server, request_uri_for

__all__ = ["AuthorizationView", "PageError", "RedirectError"]


@method_decorator([never_cache, xframe_options_deny, login_not_required], name="dispatch")
class AuthorizationView(AuthorizationResponses, View):
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
            response = self.error_page(error.error, error.description, error.status)
        except RedirectError as exc:
            response = self.redirect_validation_error(exc.error)
        except TransactionConflict:
            response = self.error_page(
                "temporarily_unavailable", "The server is busy with this request; try again.", 503
            )
        response["Content-Security-Policy"] = "frame-ancestors 'none'"
        return response

    # -- GET: validate, log in, decide ------------------------------------------------------
    def get(self, request, *args, **kwargs):
        auth = read_query(request)
        validated = self.validate(auth)
        if auth.pending_error is not None:
            return self.redirect_error(validated, auth.pending_error)
        silent = "none" in auth.prompts
        if auth.record is not None and not silent:
            remember_activation(request, auth.record)
        if not request.user.is_authenticated:
            if silent:  # OIDC Core §3.1.2.6: prompt=none never shows a page
                return self.redirect_error(
                    validated, outcome.silent_error("login_required", "The user is not logged in.")
                )
            return redirect_to_login(request.get_full_path(), settings.LOGIN_URL)
        signals.authorization_requested.send(
            sender=self.__class__,
            request=request,
            user=request.user,
            client=validated.application,
            authorization_details=validated.details,
            resource_server=validated.resource_server,
        )
        decided = outcome.decide_front_channel(request, auth, validated)
        if isinstance(decided, outcome.StepUp):
            self.step_up_required(validated, validated.details)
            return redirect(decided.hook.redirect_url(request.get_full_path()))
        if isinstance(decided, outcome.Refuse):
            if auth.record is not None and isinstance(decided.error, oauthlib_errors.AccessDeniedError):
                par.consume(auth.record)  # a hook refused: the pushed request is answered
            return self.redirect_error(validated, decided.error)
        if isinstance(decided, outcome.Ask):
            return self.render_consent(auth, validated)
        response = atomic_with_retry(lambda: self.issue_without_asking(auth, validated, decided))
        # The stored grant was revoked between finding it and locking it: ask the user instead.
        return self.render_consent(auth, validated) if response is None else response

    def issue_without_asking(self, auth, validated: Validated, decided):
        """No consent page: a new approved grant (:class:`~.outcome.Skip`) or a stored one
        (:class:`~.outcome.Reuse`, locked and re-checked), then the code. ``None`` when the stored
        grant is no longer live once locked (nothing was changed: the caller asks instead)."""
        if isinstance(decided, outcome.Reuse):
            grant = lifecycle.lock(decided.grant.pk)
            if grant is None or not grant.is_live:  # revoked since it was found
                return None
        if auth.record is not None and not par.consume(auth.record):
            return self.redirect_error(validated, used_error())
        if not isinstance(decided, outcome.Reuse):
            grant = lifecycle.approve_without_asking(
                self.request.user, validated.application, validated.resource_server, validated.scopes, []
            )
        response, issued = self.issue_code(auth, validated, grant)
        if not issued:
            transaction.set_rollback(True)
        return response

    def validate(self, auth) -> Validated:
        """Run oauthlib's checks and our pipeline once; raise PageError or RedirectError."""
        try:
            scopes, credentials = self.server.validate_authorization_request(
                request_uri_for(self.request.path, auth.pairs), pushed=auth.pushed
            )
        except oauthlib_errors.FatalClientError as error:
            raise PageError(error.error, describe(error)) from error
        except oauthlib_errors.OAuth2Error as error:
            raise RedirectError(error) from error
        return Validated(
            scopes=list(scopes or []),
            credentials=credentials,
            application=credentials["request"].client,
            details=credentials.get("authorization_details") or [],
        )

    def step_up_required(self, validated: Validated, details: list[dict]) -> None:
        signals.step_up_required.send(
            sender=self.__class__,
            request=self.request,
            user=self.request.user,
            client=validated.application,
            authorization_details=details,
        )

    def render_consent(self, auth, validated: Validated):
        """The consent page for a new pending grant (RFC 9396 §3: every entry shown)."""
        grant = lifecycle.open_pending(
            self.request.user,
            validated.application,
            validated.resource_server,
            validated.scopes,
            validated.details,
        )
        all_scopes = get_scopes_backend().get_all_scopes()
        context = {
            "application": validated.application,
            "scopes": [(scope, all_scopes.get(scope, scope)) for scope in validated.scopes if scope],
            "details": build_detail_views(validated.details, validated.credentials.get("detail_types") or {}),
            "resource_server": validated.resource_server,
            "transaction": consent_form.sign_transaction(
                auth, self.request.user, self.request.get_full_path(), grant
            ),
            "redirect_host": _host(validated.credentials.get("redirect_uri")),
            "partial_approval": consent_form.partial_approval(validated.resource_server, validated.details),
            "choose_field": consent_form.CHOOSE_FIELD,
            "approve_field": consent_form.APPROVE_FIELD,
        }
        signals.consent_shown.send(
            sender=self.__class__,
            request=self.request,
            user=self.request.user,
            client=validated.application,
            authorization_details=validated.details,
            resource_server=validated.resource_server,
        )
        return render(self.request, self.template_name, context)

    # -- POST: the decision ---------------------------------------------------------------------
    def post(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            raise PageError("access_denied", "You must be logged in to answer an authorization request.")
        auth = consent_form.read_transaction(request)
        validated = self.validate(auth)
        allow = request.POST.get("decision") == "allow"
        approved = (
            consent_form.approved_indices(request.POST, validated.details, validated.resource_server)
            if allow
            else []
        )
        granted = [validated.details[index] for index in approved]
        hook = None
        if allow and (granted or not validated.details):
            hook = outcome.run_hooks(request, validated, granted)
            if isinstance(hook, hooks.StepUp):
                # Not satisfied yet (the form was posted without the step-up): go and do it.
                self.step_up_required(validated, granted)
                return redirect(hook.redirect_url(auth.back or self.request.path))
        refusal = self.refusal(allow, validated, granted, hook)
        return atomic_with_retry(lambda: self.decide(auth, validated, approved, granted, refusal))

    def refusal(self, allow: bool, validated: Validated, granted, hook) -> oauthlib_errors.OAuth2Error | None:
        """The error a decision ends in, or ``None`` when a code is to be issued."""
        if not allow:
            return oauthlib_errors.AccessDeniedError(description="The user denied the request.")
        if validated.details and not granted:
            return oauthlib_errors.AccessDeniedError(
                description="The user approved none of the requested authorization details."
            )
        if isinstance(hook, hooks.Refuse):
            return oauthlib_errors.AccessDeniedError(description=hook.description)
        return None

    def decide(self, auth, validated: Validated, approved, granted, refusal):
        """One transaction: decide the pending grant (once), use the pushed request, issue the code."""
        grant = lifecycle.decide(auth.grant, self.request.user, None if refusal else granted)
        if grant is None:
            # The same consent page posted again: one decision, one code (a pushed request says so
            # in its own words, RFC 9126 §4).
            return self.redirect_error(
                validated,
                used_error()
                if auth.record is not None
                else oauthlib_errors.InvalidRequestError(
                    description="This authorization request was already answered; a decision is made once."
                ),
            )
        if auth.record is not None and not par.consume(auth.record):
            # RFC 9126 §4: a request_uri is used once; the first decision wins.
            transaction.set_rollback(True)
            return self.redirect_error(validated, used_error())
        if refusal is not None:
            if self.request.POST.get("decision") != "allow":
                signals.authorization_denied.send(
                    sender=self.__class__,
                    request=self.request,
                    user=self.request.user,
                    client=validated.application,
                )
            return self.redirect_error(validated, refusal)
        response, issued = self.issue_code(auth, validated, grant, approved=approved)
        if not issued:
            transaction.set_rollback(True)
        return response

    # -- responses --------------------------------------------------------------------------------
    def issue_code(self, auth, validated: Validated, grant, approved=None):
        """Create the authorization code (RFC 6749 §4.1.2) under ``grant``.

        Returns the response and whether a code was issued. The request's context (validated
        once) goes along, so oauthlib's second validation pass reuses it; ``approved`` (indices)
        narrows the details to what the user approved.
        """
        context = validated.context
        context.grant, context.approved = grant, approved
        try:
            headers, _body, _status = self.server.create_authorization_response(
                uri=request_uri_for(self.request.path, auth.pairs),
                http_method="GET",
                scopes=validated.scopes,
                # The client validated a moment ago: oauthlib's second pass does not load it again.
                credentials={"user": self.request.user, "client": validated.application, CONTEXT: context},
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
                authorization_details=context.details,  # what the code carries (reused grant: the request's)
                resource_server=validated.resource_server,
            )
        response = self.redirect(
            with_issuer(location, get_adapter().issuer(self.request)), validated.application
        )
        return response, issued


def _host(uri: str | None) -> str:
    return urlparse(uri).netloc if uri else ""
