"""Structured protocol-event logs on the ``rar_provider.events`` logger.

One INFO record per protocol event. The message is ``<event> key=value …``
(logfmt); the same data is on the record as ``record.rar_event`` (the event
name) and ``record.rar_fields`` (a dict), which :class:`JSONFormatter` writes
as one JSON object per line. Events and their fields (docs/deploy.md lists them
with examples):

===================  ==============================================================
``pushed``           client_id, par_id, resource_server, types, expires_in
``consent_shown``    client_id, user, resource_server, types
``step_up_required`` client_id, user, types
``consent_approved`` client_id, user, resource_server, types
``consent_denied``   client_id, user
``code_redeemed``    client_id, user, access_token_id  (grant_type authorization_code)
``token_refreshed``  client_id, user, access_token_id
``token_issued``     client_id, user, access_token_id, grant_type (other grants)
``token_revoked``    client_id, token_type_hint (RFC 7009: also for unknown tokens)
``consent_revoked``  grant, user, application_id
``code_replayed``    application_id, token_family (the tokens of that code are revoked)
``rate_limited``     endpoint, client_id, retry_after
===================  ==============================================================

``user`` is the user's primary key, ``types`` the authorization_details types
(RFC 9396 §2), never their values. No record ever carries a client secret, an
authorization code, a token or a ``request_uri``: only identifiers of rows.
Emitting an event runs no SQL: every field comes from objects the request has
already loaded or from foreign-key columns.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

from django.dispatch import receiver
from oauth2_provider.signals import app_authorized

from . import signals
from .client_id import named_client_id
from .conf import rar_settings
from .metrics import EVENTS

#: The logger every protocol event is written to.
LOGGER_NAME = "rar_provider.events"
logger = logging.getLogger(LOGGER_NAME)


def emit(event: str, **fields) -> None:
    """Log ``event`` with ``fields`` (None values are left out) at INFO, and count it in metrics."""
    EVENTS.labels(event=event).inc()
    if not logger.isEnabledFor(logging.INFO):
        return
    present = {name: value for name, value in fields.items() if value is not None}
    text = " ".join(f"{name}={_logfmt(value)}" for name, value in present.items())
    logger.info("%s %s", event, text, extra={"rar_event": event, "rar_fields": present})


def _logfmt(value) -> str:
    if isinstance(value, list | tuple):
        value = ",".join(str(item) for item in value)
    text = str(value)
    return json.dumps(text) if (not text or any(c in text for c in ' "=')) else text


class JSONFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message; plus event and fields for events."""

    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
        }
        event = getattr(record, "rar_event", None)
        if event is not None:
            data["event"] = event
            data.update(getattr(record, "rar_fields", {}))
        else:
            data["message"] = record.getMessage()
        if record.exc_info:
            data["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(data, default=str)


def detail_types(details) -> list[str]:
    """The ``type`` of each authorization_details entry (RFC 9396 §2), in order."""
    return [str(detail.get("type")) for detail in details or [] if isinstance(detail, dict)]


def _identifier(resource_server) -> str | None:
    return getattr(resource_server, "identifier", None) if resource_server is not None else None


def _user(user) -> object:
    return getattr(user, "pk", None)


# -- receivers (connected when this module is imported, in RarProviderConfig.ready) -------------


@receiver(signals.par_pushed, dispatch_uid="rar_provider.events.pushed")
def _pushed(sender, request, pushed_request, **kwargs) -> None:
    # application and resource_server were passed to create(): Django caches them, no query.
    emit(
        "pushed",
        client_id=pushed_request.application.client_id,
        par_id=pushed_request.pk,
        resource_server=_identifier(pushed_request.resource_server),
        types=detail_types(pushed_request.authorization_details),
        expires_in=rar_settings.PAR_LIFETIME,
    )


@receiver(signals.consent_shown, dispatch_uid="rar_provider.events.consent_shown")
def _consent_shown(sender, request, user, client, authorization_details, resource_server, **kwargs) -> None:
    emit(
        "consent_shown",
        client_id=client.client_id,
        user=_user(user),
        resource_server=_identifier(resource_server),
        types=detail_types(authorization_details),
    )


@receiver(signals.step_up_required, dispatch_uid="rar_provider.events.step_up_required")
def _step_up(sender, request, user, client, authorization_details, **kwargs) -> None:
    emit(
        "step_up_required",
        client_id=client.client_id,
        user=_user(user),
        types=detail_types(authorization_details),
    )


@receiver(signals.details_granted, dispatch_uid="rar_provider.events.consent_approved")
def _approved(sender, request, user, client, authorization_details, resource_server, **kwargs) -> None:
    emit(
        "consent_approved",
        client_id=client.client_id,
        user=_user(user),
        resource_server=_identifier(resource_server),
        types=detail_types(authorization_details),
    )


@receiver(signals.authorization_denied, dispatch_uid="rar_provider.events.consent_denied")
def _denied(sender, request, user, client, **kwargs) -> None:
    emit("consent_denied", client_id=client.client_id, user=_user(user))


@receiver(signals.consent_revoked, dispatch_uid="rar_provider.events.consent_revoked")
def _consent_revoked(sender, request, grant, **kwargs) -> None:
    emit(
        "consent_revoked",
        grant=grant.pk,
        user=getattr(grant, "user_id", None),
        application_id=getattr(grant, "application_id", None),
    )


@receiver(signals.code_replayed, dispatch_uid="rar_provider.events.code_replayed")
def _code_replayed(sender, redemption, **kwargs) -> None:
    emit(
        "code_replayed",
        application_id=redemption.application_id,
        token_family=getattr(redemption, "token_family", None),
    )


@receiver(signals.token_revocation_requested, dispatch_uid="rar_provider.events.token_revoked")
def _token_revoked(sender, request, **kwargs) -> None:
    emit(
        "token_revoked",
        client_id=named_client_id(request),
        token_type_hint=request.POST.get("token_type_hint"),
    )


TOKEN_EVENTS = {"authorization_code": "code_redeemed", "refresh_token": "token_refreshed"}


@receiver(app_authorized, dispatch_uid="rar_provider.events.token")
def _token_issued(sender, request, token, **kwargs) -> None:
    """DOT's signal after a token response (the access token row DOT loaded; its columns only)."""
    grant_type = request.POST.get("grant_type")
    event = TOKEN_EVENTS.get(grant_type, "token_issued")
    emit(
        event,
        client_id=named_client_id(request),
        user=token.user_id,
        access_token_id=token.pk,
        grant_type=grant_type if event == "token_issued" else None,
    )
