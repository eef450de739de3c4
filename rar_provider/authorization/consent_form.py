"""The consent page's form: its signed ``transaction`` and the user's (partial) approval (RFC 9396 §3).

The validated request is not re-listed in hidden fields: one signed, user-bound ``transaction``
field carries its parameters, the pushed request it came from, and the *pending grant* the page
decides (:func:`rar_provider.grants.lifecycle.open_pending`). The grant is decided once
(:func:`rar_provider.grants.lifecycle.decide`), so the same page posted twice issues one code; a
reload renders a new page with a new pending grant.
"""

from __future__ import annotations

from django.core import signing

from ..conf import rar_settings
from ..models import PushedAuthorizationRequest
from .request import AuthorizationRequest, PageError

TRANSACTION_SALT = "rar_provider.consent"
#: Form fields of partial approval: the marker that checkboxes were shown, and the approved indices.
CHOOSE_FIELD = "choose_details"
APPROVE_FIELD = "approve_detail"


def sign_transaction(auth: AuthorizationRequest, user, back: str, grant) -> str:
    """The ``transaction`` field: parameters, pushed request, user, page and pending grant, signed."""
    return signing.dumps(
        {
            "pairs": auth.pairs,
            "par": auth.record.pk if auth.record else None,
            "user": user.pk,
            "back": back,
            "grant": grant.pk,
        },
        salt=TRANSACTION_SALT,
        compress=True,
    )


def read_transaction(request) -> AuthorizationRequest:
    """The posted ``transaction``: checked signature, age (``CONSENT_MAX_AGE``) and user; else a 400 page."""
    try:
        data = signing.loads(
            request.POST.get("transaction", ""), salt=TRANSACTION_SALT, max_age=rar_settings.CONSENT_MAX_AGE
        )
    except signing.SignatureExpired as error:
        raise PageError(
            "invalid_request", "This consent page has expired. Start again from the application."
        ) from error
    except signing.BadSignature as error:
        raise PageError("invalid_request", "The consent form is invalid or was tampered with.") from error
    if data.get("user") != request.user.pk:
        raise PageError("invalid_request", "This consent page was opened by another user.")
    if not isinstance(data.get("grant"), int):
        raise PageError("invalid_request", "The consent form is invalid or was tampered with.")
    record = None
    if data.get("par") is not None:
        record = (
            PushedAuthorizationRequest.objects.select_related("application").filter(pk=data["par"]).first()
        )
        if record is None:
            raise PageError("invalid_request_uri", "The pushed authorization request no longer exists.")
    return AuthorizationRequest(
        pairs=[tuple(pair) for pair in data["pairs"]],
        record=record,
        back=data.get("back"),
        grant=data["grant"],
    )


def partial_approval(resource_server, details: list[dict]) -> bool:
    """The user may untick entries: the API allows it and there is more than one entry."""
    return bool(resource_server and resource_server.allow_partial_approval and len(details) > 1)


def approved_indices(post, details: list[dict], resource_server) -> list[int]:
    """The entries the user approved: indices into the signed request, never details from the form.

    Without the ``choose_details`` marker every entry is approved; with it, only the ticked ones,
    and only where :func:`partial_approval` allows. A bad index is a :class:`PageError`.
    """
    everything = list(range(len(details)))
    if CHOOSE_FIELD not in post:
        return everything
    if not partial_approval(resource_server, details):
        raise PageError(
            "invalid_request",
            "This request cannot be approved in part (the API does not allow it). "
            "Start again from the application.",
        )
    indices = set()
    names = {str(index): index for index in everything}  # never int() of a client's digits
    for value in post.getlist(APPROVE_FIELD):
        if value not in names:
            shown = value if len(value) <= 20 else f"{value[:20]}… ({len(value)} characters)"
            raise PageError(
                "invalid_request",
                f"{APPROVE_FIELD} must name entries 0 to {len(everything) - 1} of the request, "
                f"not {shown!r}.",
            )
        indices.add(names[value])
    return sorted(indices)
