"""The authorization endpoint's answers: redirects to the client, and error pages (RFC 6749 §4.1.2).

Every redirect carries ``iss`` (RFC 9207) and is a 302 (never 307, RFC 9700 §4.12: the browser must
not re-POST the consent form). An error goes to the client's redirect URI only once client and
redirect URI are known good (RFC 6749 §4.1.2.1); otherwise it is a 400 page.
"""

from __future__ import annotations

from django.shortcuts import render
from oauth2_provider.http import OAuth2ResponseRedirect
from oauth2_provider.models import get_application_model
from oauthlib.oauth2.rfc6749 import errors as oauthlib_errors

from ..adapter import get_adapter
from ..errors import describe
from ..oauth.responses import error_redirect_uri
from .outcome import Validated


class AuthorizationResponses:
    """Mixed into the authorization view (``self.request``, ``self.error_template_name``)."""

    def redirect_error(self, validated: Validated, error: oauthlib_errors.OAuth2Error):
        """RFC 6749 §4.1.2.1: ``error`` to the validated request's redirect URI, with its ``state``."""
        uri = error_redirect_uri(
            validated.credentials["redirect_uri"],
            error.error,
            describe(error),
            validated.credentials.get("state"),
            get_adapter().issuer(self.request),
        )
        return self.redirect(uri, validated.application)

    def redirect_validation_error(self, error: oauthlib_errors.OAuth2Error):
        """A normal error found while validating: oauthlib has checked client and redirect URI."""
        application = get_application_model().objects.filter(client_id=error.client_id).first()
        if not error.redirect_uri or application is None:
            return self.error_page(error.error, describe(error))
        uri = error_redirect_uri(
            error.redirect_uri, error.error, describe(error), error.state, get_adapter().issuer(self.request)
        )
        return self.redirect(uri, application)

    def redirect(self, uri: str, application):
        """A 302 to ``uri``, if its scheme is one ``application`` allows (DOT's check)."""
        # 302, never 307 (RFC 9700 §4.12): the browser must not re-POST the consent form.
        return OAuth2ResponseRedirect(uri, application.get_allowed_schemes())

    def error_page(self, error: str, description: str, status: int = 400):
        """The error page (400 by default): no redirect URI can be trusted with the error."""
        response = render(
            self.request,
            self.error_template_name,
            {"error": error, "error_description": description},
            status=status,
        )
        response.oauth_error = error  # counted by rar_provider.metrics.OAuthErrorMetricsMiddleware
        return response
