"""Project code that runs before consent: allow, refuse, or require step-up (RAR-17).

RFC 9396 §3 leaves it to the authorization server how it decides to grant a
request; these hooks let a project decide per request, seeing exactly what is
asked for. List them in ``RAR_PROVIDER["CONSENT_HOOKS"]`` as dotted paths::

    RAR_PROVIDER = {"CONSENT_HOOKS": ["myproject.consent.large_payments"]}

    def large_payments(request, user, client, resource_server, details, scopes):
        if any(d["type"] == "money_transfer" and d["instructedAmount"]["amount"] > 1000 for d in details):
            if not recently_reauthenticated(request):
                return StepUp(reverse("reauthenticate"))
        return Allow()

Each hook is called with the Django ``request``, the logged-in ``user``, the
``client`` (DOT Application), the ``resource_server`` (or None), the requested
``details`` (on the decision POST: the entries the user approved) and the
``scopes``. It returns :class:`Allow` (or None), :class:`Refuse` or
:class:`StepUp`. Hooks run in order; the first that does not allow decides.

They run when the consent page is about to be shown *and again* when the
decision is posted, before a stored consent is reused and before a code is
issued, so a step-up cannot be skipped by posting the consent form directly:
the hook must find its own proof (e.g. a timestamp it keeps in the session).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from .conf import rar_settings

__all__ = ["Allow", "Decision", "Refuse", "StepUp", "load_hooks", "run_consent_hooks"]


@dataclass(frozen=True)
class Allow:
    """Go on: show the consent page (or reuse a stored consent)."""


@dataclass(frozen=True)
class Refuse:
    """Stop: the client gets ``access_denied`` with this description (RFC 6749 §4.1.2.1)."""

    description: str = "The request was refused."


@dataclass(frozen=True)
class StepUp:
    """Send the user to ``url`` first; it must send them back to ``?next=`` (the same consent)."""

    url: str

    def redirect_url(self, back_to: str) -> str:
        separator = "&" if "?" in self.url else "?"
        return f"{self.url}{separator}{urlencode({'next': back_to})}"


Decision = Allow | Refuse | StepUp


def load_hooks() -> list:
    """The callables named in ``CONSENT_HOOKS``; ``ImproperlyConfigured`` names the bad entry."""
    paths = rar_settings.CONSENT_HOOKS
    if not isinstance(paths, list | tuple) or not all(isinstance(path, str) for path in paths):
        raise ImproperlyConfigured("RAR_PROVIDER['CONSENT_HOOKS'] must be a list of dotted paths.")
    hooks = []
    for path in paths:
        try:
            hook = import_string(path)
        except ImportError as exc:
            raise ImproperlyConfigured(
                f"RAR_PROVIDER['CONSENT_HOOKS'] lists {path!r}, which cannot be imported: {exc}"
            ) from exc
        if not callable(hook):
            raise ImproperlyConfigured(
                f"RAR_PROVIDER['CONSENT_HOOKS'] lists {path!r}, which is not callable."
            )
        hooks.append(hook)
    return hooks


def run_consent_hooks(
    request, user, client, resource_server, details: list[dict], scopes: list[str]
) -> Decision:
    """Call every hook in order; the first :class:`Refuse` or :class:`StepUp` wins."""
    for hook in load_hooks():
        decision: Any = hook(
            request=request,
            user=user,
            client=client,
            resource_server=resource_server,
            details=details,
            scopes=scopes,
        )
        if decision is None or isinstance(decision, Allow):
            continue
        if isinstance(decision, Refuse | StepUp):
            return decision
        raise TypeError(
            f"consent hook {hook!r} returned {decision!r}; expected Allow, Refuse, StepUp or None"
        )
    return Allow()
