"""Per-client request rates at the back-channel endpoints (PAR and token).

RFC 9126 §2 and RFC 6749 leave rate limiting to the server. Each endpoint
named in ``RAR_PROVIDER["RATE_LIMITS"]`` (``"par"``, ``"token"``) counts the
POSTs of each client in fixed windows with django-ratelimit, in Django's cache
(``RATELIMIT_USE_CACHE``, default ``"default"``): with a shared cache (Redis)
every worker and node counts against the same budget.

The client is the one the request *names* (HTTP Basic user name or the body's
``client_id``), before authentication, so guessing and floods are refused
before any secret is checked; a request naming no client is counted per IP
address (``REMOTE_ADDR``).

Over the rate the answer is HTTP 429 (RFC 6585 §4) with ``Retry-After`` in
seconds (RFC 9110 §10.2.3) and an RFC 6749 §5.2-shaped JSON body. No OAuth
error code is registered for rate limiting (RFC 8628's ``slow_down`` is for
device-flow polling), so the code is ``too_many_requests``, after the HTTP
status. If the cache cannot be reached the request is let through (fail open)
and an error is logged on ``rar_provider.ratelimit``.
"""

from __future__ import annotations

import functools
import logging

from django_ratelimit.core import get_usage

from . import events
from .client_id import named_client_id
from .conf import rar_settings
from .views.oauth import oauth_error_response

#: The error code of a 429 answer (not registered with IANA; see the module docstring).
RATE_LIMITED = "too_many_requests"

logger = logging.getLogger("rar_provider.ratelimit")


def rate_key(group: str, request) -> str:
    """The counter a request is charged to: its named client, else its IP address."""
    client_id = named_client_id(request)
    if client_id is not None:
        return f"client:{client_id}"
    return f"ip:{request.META.get('REMOTE_ADDR', '')}"


def rate_for(endpoint: str) -> str | None:
    """The configured rate of ``endpoint`` (``"600/m"``), or None when it is not limited."""
    limits = rar_settings.RATE_LIMITS or {}
    return limits.get(endpoint) or None


def limit_response(request, endpoint: str):
    """Count this request; the 429 response when the client is over its rate, else None."""
    rate = rate_for(endpoint)
    if rate is None or request.method != "POST":
        return None
    try:
        usage = get_usage(
            request, group=f"rar_provider.{endpoint}", key=rate_key, rate=rate, method="POST", increment=True
        )
    except Exception:
        # The cache is down: serve rather than refuse every client (fail open), and say so loudly.
        logger.exception("Rate limit of %s not checked: the cache could not be reached.", endpoint)
        return None
    if usage is None or not usage["should_limit"]:
        return None
    retry_after = max(1, int(usage["time_left"]))
    events.emit(
        "rate_limited", endpoint=endpoint, client_id=named_client_id(request), retry_after=retry_after
    )
    return oauth_error_response(
        RATE_LIMITED,
        f"Too many requests to the {endpoint} endpoint from this client (at most {rate}); "
        f"retry after {retry_after} seconds.",
        429,
        {"Retry-After": str(retry_after)},
    )


def rate_limited(endpoint: str):
    """Decorate a view (or, through ``method_decorator``, a class's ``dispatch``) with the limit
    of ``endpoint`` from ``RAR_PROVIDER["RATE_LIMITS"]``, read on every request."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            response = limit_response(request, endpoint)
            if response is not None:
                return response
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
