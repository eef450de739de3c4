"""Small helpers the endpoints share: the oauthlib server, request URIs, JSON errors."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import JsonResponse
from oauth2_provider.views.mixins import OAuthLibMixin


def get_server():
    """The configured oauthlib server (DOT's ``OAUTH2_SERVER_CLASS`` with its validator)."""
    return OAuthLibMixin.get_server()


def request_uri_for(path: str, pairs: list[tuple[str, str]] | list[list[str]]) -> str:
    """An authorization request URI carrying ``pairs`` (what oauthlib reads parameters from)."""
    return f"{path}?{urlencode([tuple(p) for p in pairs])}" if pairs else path


def oauth_error_response(
    error: str, description: str | None, status: int = 400, headers: dict[str, str] | None = None
) -> JsonResponse:
    """RFC 6749 §5.2 error body, never cached."""
    body = {"error": error}
    if description:
        body["error_description"] = description
    response = JsonResponse(body, status=status)
    response["Cache-Control"] = "no-store"
    response["Pragma"] = "no-cache"
    for name, value in (headers or {}).items():
        response[name] = value
    return response
