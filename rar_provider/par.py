"""Pushed authorization requests: storing them and resolving a ``request_uri`` (RFC 9126).

Only a SHA-256 hash of the random reference is stored (RFC 9126 §7.1), so a
database leak does not hand out usable request URIs.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from .conf import rar_settings
from .errors import InvalidRequestUriError
from .models import PushedAuthorizationRequest, hash_reference

REQUEST_URI_PREFIX = "urn:ietf:params:oauth:request_uri:"
#: RFC 9126 §2.2 / §7.1: the reference carries 256 bits of randomness.
REFERENCE_BYTES = 32


def new_request_uri() -> str:
    return REQUEST_URI_PREFIX + secrets.token_urlsafe(REFERENCE_BYTES)


def store(
    *, application, parameters: list[tuple[str, str]], authorization_details: list[dict], resource_server=None
) -> tuple[str, PushedAuthorizationRequest]:
    """Save a validated request; return its ``request_uri`` and the record."""
    request_uri = new_request_uri()
    record = PushedAuthorizationRequest.objects.create(
        reference_hash=hash_reference(request_uri),
        application=application,
        resource_server=resource_server,
        parameters=[list(pair) for pair in parameters],
        authorization_details=authorization_details,
        expires_at=timezone.now() + timedelta(seconds=rar_settings.PAR_LIFETIME),
    )
    return request_uri, record


@dataclass
class Resolution:
    """A ``request_uri`` looked up for ``client_id``.

    ``error`` is set when the record exists and belongs to the client but can
    no longer be used (expired, used): the error can then be sent to the
    client's redirect URI (RFC 9126 §4).
    """

    record: PushedAuthorizationRequest
    error: InvalidRequestUriError | None = None


class RequestUriNotFound(Exception):
    """Unknown request_uri, or one pushed by another client: never redirect (RFC 9126 §4)."""

    def __init__(self, description: str):
        super().__init__(description)
        self.description = description


def resolve(request_uri: str, client_id: str | None, *, activated: bool = False) -> Resolution:
    """Find the pushed request for ``request_uri`` and check it may be used by ``client_id``.

    ``activated``: this browser already opened the request before it expired
    (the user then logged in); the lifetime no longer applies, the one-time
    use still does.
    """
    if not client_id:
        raise RequestUriNotFound("client_id is required with request_uri.")
    if not request_uri.startswith(REQUEST_URI_PREFIX):
        raise RequestUriNotFound(f"request_uri must start with {REQUEST_URI_PREFIX}")
    record = (
        PushedAuthorizationRequest.objects.select_related("application", "resource_server")
        .filter(reference_hash=hash_reference(request_uri))
        .first()
    )
    if record is None:
        raise RequestUriNotFound("request_uri is unknown.")
    if record.application.client_id != client_id:
        # RFC 9126 §4: the request_uri is bound to the client that pushed it.
        raise RequestUriNotFound("request_uri was not pushed by this client.")
    if record.consumed_at is not None:
        return Resolution(record, InvalidRequestUriError(description="request_uri has already been used."))
    if record.is_expired and not activated:
        return Resolution(record, InvalidRequestUriError(description="request_uri has expired."))
    return Resolution(record)


def consume(record: PushedAuthorizationRequest) -> bool:
    """Mark the request used, once: False when another decision got there first (RFC 9126 §4)."""
    updated = PushedAuthorizationRequest.objects.filter(pk=record.pk, consumed_at__isnull=True).update(
        consumed_at=timezone.now()
    )
    return updated == 1
