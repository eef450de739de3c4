"""``MalformedRequestMiddleware``: refuse an HTTP request whose framing cannot be read, first.

A ``Content-Length`` that is not a non-negative whole number makes the request unreadable: Django
raises ``ValueError`` when the body is read, and so does middleware that reads the header itself
(django-prometheus's request metrics, say) — a 500 for something a client sent. Put this class
first in ``MIDDLEWARE``: such a request is answered ``400`` before anything else runs — an
RFC 6749 §5.2 JSON ``invalid_request`` (``Cache-Control: no-store``), so the back-channel
endpoints' rule "never a 500, always JSON" holds whatever middleware a project adds after it.

A server in front (gunicorn, nginx) usually refuses such a request already; this holds behind
any server, and under Django's test client.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from .views.oauth import oauth_error_response


class MalformedRequestMiddleware:
    """RFC 9110 §8.6: ``Content-Length`` is ``1*DIGIT``; anything else is ``400 invalid_request``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        length = request.META.get("CONTENT_LENGTH")
        if length and not (length.isascii() and length.isdigit()):
            return oauth_error_response(
                "invalid_request",
                "The Content-Length header is not a whole number of bytes (RFC 9110 §8.6).",
                400,
            )
        return self.get_response(request)
