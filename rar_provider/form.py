"""Strict reading of ``application/x-www-form-urlencoded`` requests (RFC 6749 §3.1, §3.2, Appendix B).

Pure functions, no Django request: the endpoints (:mod:`rar_provider.views.endpoint`
for PAR, token, introspection and revocation; the authorization endpoint for its
query) call them before anything else reads a parameter, so that every kind of
malformed input is refused the same way, with an RFC 6749 §5.2 error naming
what was wrong:

- the media type is ``application/x-www-form-urlencoded`` and its ``charset``, if
  any, names UTF-8 (``utf-8`` or ``utf8``, any case, optionally double-quoted):
  the format is UTF-8 by definition (WHATWG URL §5), so any other charset is
  refused rather than guessed at;
- no ``Content-Encoding`` other than ``identity``;
- every ``%XX`` escape is well formed and the decoded bytes are UTF-8;
- no parameter name or value contains U+0000 (no database stores it in text);
- at most ``max_fields`` parameters;
- no parameter is sent more than once, except those that may repeat
  (RFC 8707 ``resource``).

Every refusal is a :class:`RequestProblem`.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
UTF8_CHARSETS = frozenset({"utf-8", "utf8"})
_BAD_ESCAPE = re.compile(rb"%(?![0-9A-Fa-f]{2})")


class RequestProblem(Exception):
    """A request refused before it reaches the protocol: RFC 6749 §5.2 ``error``, description, status.

    ``status`` is 400, 401 (client authentication: the endpoint adds the
    ``WWW-Authenticate`` challenge) or 413 (body too large).
    """

    def __init__(self, description: str, *, error: str = "invalid_request", status: int = 400):
        super().__init__(description)
        self.error, self.description, self.status = error, description, status


def shown(text: str, limit: int = 40) -> str:
    """``text`` quoted for an error description: control characters escaped, long text cut."""
    cut = text if len(text) <= limit else text[:limit] + "…"
    return repr(cut)


def check_content_type(content_type: str | None, content_encoding: str | None = None) -> None:
    """The body is a UTF-8 form (see the module docstring); raise :class:`RequestProblem` if not."""
    if content_encoding and content_encoding.strip().lower() != "identity":
        raise RequestProblem(
            f"Content-Encoding {shown(content_encoding)} is not supported: send the form unencoded."
        )
    media_type, _, rest = (content_type or "").partition(";")
    media_type = media_type.strip().lower()
    if media_type != FORM_CONTENT_TYPE:
        got = shown(media_type) if media_type else "none"
        raise RequestProblem(f"The request body must be {FORM_CONTENT_TYPE} (got {got}).")
    for parameter in rest.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() != "charset":
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] == '"':
            value = value[1:-1]
        if value.lower() not in UTF8_CHARSETS:
            raise RequestProblem(
                f"charset {shown(value)} is not supported: {FORM_CONTENT_TYPE} is UTF-8 "
                "(send charset=utf-8 or no charset)."
            )


def _decode(raw: bytes, what: str) -> str:
    if _BAD_ESCAPE.search(raw):
        raise RequestProblem(f"{what} has a % that does not start a %XX escape.")
    try:
        return unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        raise RequestProblem(f"{what} is not UTF-8 text.") from None


def check_value(name: str, value: str) -> None:
    """Refuse what no database stores in a text column: U+0000 (PostgreSQL refuses it)."""
    if "\x00" in name:
        raise RequestProblem(f"The parameter name {shown(name)} contains a NUL character.")
    if "\x00" in value:
        raise RequestProblem(f"{name} contains a NUL character.")


def parse_form(
    body: bytes | str,
    *,
    max_fields: int | None = None,
    repeatable: Collection[str] = (),
    check_repeats: bool = True,
) -> list[tuple[str, str]]:
    """The ``(name, value)`` pairs of a form body or query string, in order.

    Empty segments (``a=1&&b=2``) are skipped, and so is a parameter with an
    empty value (RFC 6749 §3.1: "treated as if they were omitted"). Raises :class:`RequestProblem` for a bad
    ``%`` escape, bytes that are not UTF-8, a NUL, more than ``max_fields``
    parameters, or a parameter sent more than once (RFC 6749 §3.1) unless its
    name is in ``repeatable`` (or ``check_repeats`` is false: the caller checks).
    """
    raw = body.encode("latin-1", "replace") if isinstance(body, str) else body
    segments = [segment for segment in raw.split(b"&") if segment]
    if max_fields is not None and len(segments) > max_fields:
        raise RequestProblem(f"The request has {len(segments)} parameters; at most {max_fields} are allowed.")
    pairs = []
    for segment in segments:
        raw_name, _, raw_value = segment.partition(b"=")
        name = _decode(raw_name, "A parameter name")
        value = _decode(raw_value, name or "A parameter")
        check_value(name, value)
        if value:
            pairs.append((name, value))
    if check_repeats:
        check_repeated(pairs, repeatable)
    return pairs


def check_repeated(pairs: list[tuple[str, str]], repeatable: Collection[str] = ()) -> None:
    """RFC 6749 §3.1: a parameter must not be included more than once (unless in ``repeatable``)."""
    repeated = sorted(name for name, count in Counter(name for name, _ in pairs).items() if count > 1)
    for name in repeated:
        if name not in repeatable:
            raise RequestProblem(f"{name} was sent more than once (RFC 6749 §3.1).")


@dataclass(frozen=True)
class BasicCredentials:
    """HTTP Basic client credentials (RFC 6749 §2.3.1: each part form-urlencoded, then Basic)."""

    client_id: str
    client_secret: str


def parse_basic(authorization: str) -> BasicCredentials | None:
    """The credentials of an ``Authorization: Basic …`` header; ``None`` for another scheme.

    Raises :class:`RequestProblem` (``invalid_client``, 401) when the Basic
    credentials cannot be read: not base64, not UTF-8, no ``:``, a bad ``%``
    escape or a NUL.
    """
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        return None

    def refuse(reason: str) -> RequestProblem:
        return RequestProblem(
            f"The Basic credentials in the Authorization header {reason}.", error="invalid_client", status=401
        )

    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise refuse("are not base64-encoded UTF-8") from None
    if ":" not in decoded:
        raise refuse("have no ':' between client_id and client_secret")
    client_id, _, secret = decoded.partition(":")
    try:
        client_id, secret = (_decode(part.encode(), "x") for part in (client_id, secret))
    except RequestProblem:
        raise refuse("are not form-urlencoded (RFC 6749 §2.3.1)") from None
    if "\x00" in client_id or "\x00" in secret:
        raise refuse("contain a NUL character")
    return BasicCredentials(client_id, secret)
