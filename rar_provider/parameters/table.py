"""The shape of a parameter table: :class:`Parameter` (one row), :class:`Endpoint` (one table), :func:`check`.

Also the syntax every table shares: printable ASCII, URIs and scope tokens
(RFC 6749 Appendix A), PKCE's unreserved 43 to 128 characters (RFC 7636 §4.1)
and OIDC's ``prompt`` values.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

from ..form import RequestProblem, shown

REQUIRED = "required"
OPTIONAL = "optional"
NEVER = "never"

VSCHAR = r"[\x20-\x7e]"
#: RFC 6749 Appendix A: most values are printable ASCII.
VSCHARS = rf"{VSCHAR}+"
URI = r"[\x21-\x7e]+"
SCOPE = r"[\x21\x23-\x5b\x5d-\x7e]+(?: [\x21\x23-\x5b\x5d-\x7e]+)*"
UNRESERVED_43_128 = r"[A-Za-z0-9._~-]{43,128}"
PROMPT_VALUE = r"(?:login|consent|select_account)"
#: RFC 7638 SHA-256 thumbprint, base64url without padding (RFC 9449 §10 ``dpop_jkt``).
DPOP_JKT = r"[A-Za-z0-9_-]{43}"


@dataclass(frozen=True)
class Parameter:
    """One row: a request parameter of one endpoint.

    ``required`` is :data:`REQUIRED`, :data:`OPTIONAL` or the condition under
    which it is required (enforced elsewhere). ``pattern`` (a full match) and
    ``max_length`` are the syntax :func:`check` enforces; ``syntax`` says it in
    words. ``error`` is the error for a malformed value (missing and repeated
    values are always ``invalid_request``), ``mismatch_error`` the error when
    the value does not match ``matches``. ``example`` is a valid value, ``bad``
    a malformed one and ``mismatch`` a well-formed one that breaks ``matches``
    (the tests send them; ``None``: the test's request supplies it).
    """

    name: str
    required: str
    syntax: str
    pattern: str | None = None
    max_length: int | None = None
    error: str = "invalid_request"
    matches: str = ""
    mismatch_error: str = ""
    repeatable: bool = False
    example: str | None = None
    bad: str | None = None
    mismatch: str | None = None

    @cached_property
    def regex(self) -> re.Pattern[str] | None:
        return re.compile(self.pattern) if self.pattern else None

    def problem(self, value: str) -> RequestProblem | None:
        """The error for ``value`` if it breaks this row's syntax, else ``None``."""
        # RFC 6749 §5.2: invalid_client is answered 401.
        status = 401 if self.error == "invalid_client" else 400
        if self.max_length is not None and len(value) > self.max_length:
            return RequestProblem(
                f"{self.name} is {len(value)} characters long; at most {self.max_length} are allowed.",
                error=self.error,
                status=status,
            )
        if self.regex is not None and not self.regex.fullmatch(value):
            if self.required == NEVER:
                description = f"{self.name} must not be sent: {self.syntax}."
            else:
                description = f"{self.name} {shown(value)} is refused: it must be {self.syntax}."
            return RequestProblem(description, error=self.error, status=status)
        return None


@dataclass(frozen=True)
class Endpoint:
    """The parameters of one endpoint (or one grant of the token endpoint)."""

    key: str
    title: str
    parameters: tuple[Parameter, ...]

    def __getitem__(self, name: str) -> Parameter:
        for parameter in self.parameters:
            if parameter.name == name:
                return parameter
        raise KeyError(name)

    @property
    def names(self) -> frozenset[str]:
        return frozenset(parameter.name for parameter in self.parameters)

    @property
    def repeatable(self) -> frozenset[str]:
        return frozenset(parameter.name for parameter in self.parameters if parameter.repeatable)


def check(endpoint: Endpoint, pairs: Iterable[tuple[str, str]], *, presence: bool = True) -> None:
    """Enforce ``endpoint``'s single-value, syntax and (``presence``) unconditional-presence rules.

    Parameters not in the table are ignored (RFC 6749 §3.1). Raises
    :class:`~rar_provider.form.RequestProblem` for the first violation.
    """
    seen: set[str] = set()
    for name, value in pairs:
        if name not in endpoint.names:
            continue
        parameter = endpoint[name]
        if name in seen and not parameter.repeatable:
            raise RequestProblem(f"{name} was sent more than once (RFC 6749 §3.1).")
        seen.add(name)
        problem = parameter.problem(value)
        if problem is not None:
            raise problem
    if presence:
        for parameter in endpoint.parameters:
            if parameter.required == REQUIRED and parameter.name not in seen:
                raise RequestProblem(f"{parameter.name} is required.")
