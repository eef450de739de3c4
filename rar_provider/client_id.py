"""The client a back-channel request names, read without authenticating it (RFC 6749 §2.3.1).

Used where a request must be attributed to a client cheaply and before (or
without) client authentication: per-client rate limits and protocol-event logs.
Authentication itself stays with the validator (``views.client_auth``).
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import unquote_plus

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


def named_client_id(request) -> str | None:
    """The ``client_id`` of HTTP Basic credentials, else of the form body, else the ``sub`` of a
    client assertion (RFC 7523 §3, unverified), else None.

    RFC 6749 §2.3.1: the Basic user name is the form-urlencoded client_id. The
    body is read only when it is a form; a body the server refuses to parse
    (too big, too many fields) names no client here and is left for the view to
    answer, as it would without this function.
    """
    scheme, _, credentials = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    if scheme.lower() == "basic" and credentials:
        try:
            decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            decoded = ""
        client_id, separator, _ = decoded.partition(":")
        if separator and client_id:
            return unquote_plus(client_id)
    if request.method == "POST" and request.content_type == FORM_CONTENT_TYPE:
        try:
            values = request.POST.getlist("client_id")
        except (RequestDataTooBig, TooManyFieldsSent):
            return None
        if len(values) == 1 and values[0]:
            return values[0]
        assertions = request.POST.getlist("client_assertion")
        if len(assertions) == 1:
            from .client_assertions import claimed_client_id

            return claimed_client_id(assertions[0])
    return None
