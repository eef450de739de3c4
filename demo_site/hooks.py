"""The demo's consent hook: a money transfer above 1,000 needs the password again.

Registered in ``RAR_PROVIDER["CONSENT_HOOKS"]`` (see rar_provider.hooks). The
proof of the step-up is a timestamp in the user's session, set by
:func:`demo_site.views.step_up`; it counts for :data:`STEP_UP_MAX_AGE` seconds.
"""

from __future__ import annotations

import time
from decimal import Decimal, InvalidOperation

from django.urls import reverse

from rar_provider.hooks import Allow, StepUp

STEP_UP_SESSION_KEY = "demo_step_up_at"
STEP_UP_MAX_AGE = 300
LIMIT = Decimal(1000)


def _amount(detail: dict) -> Decimal:
    value = detail.get("instructedAmount")
    try:
        return Decimal(str(value.get("amount"))) if isinstance(value, dict) else Decimal(0)
    except InvalidOperation:
        return Decimal(0)


def stepped_up(request) -> bool:
    done = request.session.get(STEP_UP_SESSION_KEY)
    return isinstance(done, int | float) and time.time() - done < STEP_UP_MAX_AGE


def large_transfers_need_password(request, user, client, resource_server, details, scopes):
    large = any(d.get("type") == "money_transfer" and _amount(d) > LIMIT for d in details)
    if large and not stepped_up(request):
        return StepUp(reverse("demo-step-up"))
    return Allow()
