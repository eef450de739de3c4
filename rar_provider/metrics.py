"""Prometheus metrics of rar_provider (prometheus-client).

- ``rar_provider_oauth_errors_total{endpoint, error}``: OAuth error answers per endpoint
  (the URL name: ``par``, ``token``, ``authorize``, ``introspect``, ``revoke`` …) and error
  code (RFC 6749 §5.2 / §4.1.2.1, RFC 9126 §2.3, RFC 9396 §5, ``too_many_requests``), counted
  by :class:`OAuthErrorMetricsMiddleware` from JSON bodies, error redirects and error pages.
- ``rar_provider_events_total{event}``: protocol events (rar_provider.events), counted
  whether or not the events logger is enabled.

Requests and latency per endpoint come from django-prometheus's middleware (its
``django_http_requests_latency_seconds_by_view_method`` and
``django_http_responses_total_by_status_view_method``, labelled with the view name,
e.g. ``rar_provider:token``). Everything is served by
``rar_provider.views.health.metrics`` (docs/deploy.md: where, and who may read it).
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlsplit

from prometheus_client import Counter

OAUTH_ERRORS = Counter(
    "rar_provider_oauth_errors",
    "OAuth error answers, per endpoint (URL name) and OAuth error code.",
    ["endpoint", "error"],
)
EVENTS = Counter("rar_provider_events", "Protocol events (rar_provider.events), per event.", ["event"])

#: Error codes are ASCII words (RFC 6749 §5.2 error: %x20-21 / %x23-5B / %x5D-7E); anything else is
#: counted as "other" so that a label never takes arbitrary values.
_ERROR_CODE = re.compile(r"^[a-z0-9_]{1,64}$")


def oauth_error_of(response) -> str | None:
    """The OAuth ``error`` a response carries: an error page's, a JSON body's or a redirect's."""
    marked = getattr(response, "oauth_error", None)
    if marked:
        return marked
    status = response.status_code
    if status in (301, 302, 303, 307) and "error=" in response.get("Location", ""):
        parts = urlsplit(response["Location"])
        params = parse_qs(parts.query) or parse_qs(parts.fragment)
        return (params.get("error") or [None])[0]
    if status >= 400 and response.get("Content-Type", "").startswith("application/json"):
        if getattr(response, "streaming", False):
            return None
        try:
            body = json.loads(response.content)
        except ValueError:
            return None
        error = body.get("error") if isinstance(body, dict) else None
        return error if isinstance(error, str) else None
    return None


class OAuthErrorMetricsMiddleware:
    """Count the OAuth errors of rar_provider's endpoints in ``rar_provider_oauth_errors_total``.

    Add it to ``MIDDLEWARE`` (anywhere after ``CommonMiddleware``). It looks only at
    responses of views in the ``rar_provider`` URL namespace and parses a body only for
    4xx/5xx JSON answers.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        if match is not None and match.app_name == "rar_provider" and (response.status_code >= 300):
            error = oauth_error_of(response)
            if error:
                label = error if _ERROR_CODE.match(error) else "other"
                OAUTH_ERRORS.labels(endpoint=match.url_name or "", error=label).inc()
        return response
