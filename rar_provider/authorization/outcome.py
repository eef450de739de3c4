"""What happens to a valid authorization request once the user is known (RFC 9396 §3).

In order: the project's consent hooks (``CONSENT_HOOKS``: step up or refuse, RAR-17); no consent
needed (``skip_authorization`` / ``approval_prompt=auto``, scopes only); a stored grant that covers
the request (the ``standard`` consent policy, :mod:`rar_provider.grants.reuse`); else ask.
``prompt=none`` (OIDC Core §3.1.2.6) turns anything that needs the user into an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils import timezone
from oauth2_provider.models import get_access_token_model
from oauth2_provider.settings import oauth2_settings
from oauthlib.oauth2.rfc6749 import errors as oauthlib_errors

from .. import hooks
from ..grants.reuse import find_covering_grant
from ..oauth.context import RequestContext, context_of
from .request import AuthorizationRequest


@dataclass
class Validated:
    """oauthlib's and the pipeline's result for one request: scopes, credentials, client, details."""

    scopes: list[str]
    credentials: dict
    application: object
    details: list[dict] = field(default_factory=list)

    @property
    def context(self) -> RequestContext:
        return context_of(self.credentials["request"])

    @property
    def resource_server(self):
        return self.credentials.get("resource_server")

    @property
    def pairs(self) -> list[tuple[str, str]]:
        return list(self.credentials["request"].uri_query_params)


@dataclass
class Ask:
    """Show the consent page."""


@dataclass
class Skip:
    """Issue a code without asking (no authorization_details, and the client needs no consent)."""


@dataclass
class Reuse:
    """Issue a code under a stored grant that covers the request (``standard`` consent policy)."""

    grant: object


@dataclass
class StepUp:
    """A consent hook wants the user to confirm who they are first."""

    hook: hooks.StepUp


@dataclass
class Refuse:
    """An error for the client: a hook refused, or ``prompt=none`` could not be honoured."""

    error: oauthlib_errors.OAuth2Error


def silent_error(error: str, description: str) -> oauthlib_errors.OAuth2Error:
    return oauthlib_errors.CustomOAuth2Error(error=error, description=description)


def run_hooks(request, validated: Validated, details: list[dict]) -> hooks.Decision:
    """The project's consent hooks (``CONSENT_HOOKS``): allow, refuse or step up (RAR-17)."""
    return hooks.run_consent_hooks(
        request, request.user, validated.application, validated.resource_server, details, validated.scopes
    )


def may_skip_consent(request, validated: Validated) -> bool:
    """``skip_authorization`` and ``approval_prompt=auto`` compare scopes only, so they
    never apply to a request with authorization_details (RFC 9396 §3: details are consented)."""
    if validated.details:
        return False
    application = validated.application
    if application.skip_authorization:
        return True
    approval_prompt = dict(validated.pairs).get("approval_prompt", oauth2_settings.REQUEST_APPROVAL_PROMPT)
    if approval_prompt != "auto":
        return False
    tokens = get_access_token_model().objects.filter(
        user=request.user, application=application, expires__gt=timezone.now()
    )
    return any(token.allow_scopes(validated.scopes) for token in tokens)


def decide_front_channel(request, auth: AuthorizationRequest, validated: Validated):
    """One of :class:`Ask`, :class:`Skip`, :class:`Reuse`, :class:`StepUp` or :class:`Refuse`."""
    silent = "none" in auth.prompts
    outcome = run_hooks(request, validated, validated.details)
    if isinstance(outcome, hooks.StepUp):
        if silent:
            return Refuse(silent_error("interaction_required", "The user must confirm who they are."))
        return StepUp(outcome)
    if isinstance(outcome, hooks.Refuse):
        return Refuse(oauthlib_errors.AccessDeniedError(description=outcome.description))
    if may_skip_consent(request, validated):
        return Skip()
    if "consent" not in auth.prompts:
        covering = find_covering_grant(
            request.user,
            validated.application,
            validated.resource_server,
            validated.details,
            validated.scopes,
        )
        if covering is not None:
            return Reuse(covering)
    if silent:
        return Refuse(silent_error("consent_required", "The user must approve this request."))
    return Ask()
