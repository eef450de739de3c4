"""Parsing the ``authorization_details`` request parameter (RFC 9396 §2, §5).

RFC 9396 §2: the parameter is a JSON array of JSON objects, each with a
``type`` string. §5: anything malformed is refused with the error code
``invalid_authorization_details``.
"""

from __future__ import annotations

import json
import math
from typing import Any, NoReturn

from ..errors import AuthorizationDetailsProblem
from .limits import ROOT, Limits, check_limits, path_join

__all__ = ["parse_authorization_details"]


def _not_json(reason: str) -> NoReturn:
    raise AuthorizationDetailsProblem(f"{ROOT} is not valid JSON: {reason}")


def _reject_constant(name: str) -> NoReturn:
    """``json`` accepts ``NaN``, ``Infinity`` and ``-Infinity``; RFC 8259 §6 does not."""
    _not_json(f"{name} is not allowed (RFC 8259 §6)")


def _finite_float(text: str) -> float:
    """A number too large for a float (``1e400``) would become ``inf`` and be sent back as ``Infinity``."""
    value = float(text)
    if not math.isfinite(value):
        _not_json(f"the number {text[:40]} is out of range")
    return value


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """RFC 8259 §4: names within an object SHOULD be unique; we require it (no silent last-one-wins)."""
    result: dict[str, Any] = {}
    for name, value in pairs:
        if name in result:
            _not_json(f'duplicate property "{name[:80]}" in one object')
        result[name] = value
    return result


#: Deeper nesting is refused before parsing. Python's own limit (a RecursionError) depends on the
#: version and the stack in use; this one does not. Far above any MAX_NESTING_DEPTH.
PARSE_DEPTH_LIMIT = 100


def _nesting_depth(raw: str) -> int:
    """The deepest ``[``/``{`` nesting in ``raw`` (brackets inside JSON strings do not count)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in raw:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _loads(raw: str) -> Any:
    if _nesting_depth(raw) > PARSE_DEPTH_LIMIT:
        _not_json("nested too deeply")
    try:
        return json.loads(
            raw,
            parse_constant=_reject_constant,
            parse_float=_finite_float,
            object_pairs_hook=_unique_object,
        )
    except json.JSONDecodeError as exc:
        _not_json(str(exc))
    except RecursionError:
        _not_json("nested too deeply")
    except AuthorizationDetailsProblem:
        raise
    except ValueError as exc:  # e.g. an integer beyond Python's digit limit
        _not_json(str(exc))


def parse_authorization_details(raw: str | None, limits: Limits) -> list[dict]:
    """Parse and check the ``authorization_details`` parameter (RFC 9396 §2, §5).

    ``None`` or ``""`` means the parameter is absent and gives ``[]``.
    Otherwise the raw text must be at most ``limits.max_bytes`` UTF-8 bytes
    (checked before parsing), valid JSON (RFC 8259: no ``NaN``/``Infinity``,
    no duplicate property names), and a non-empty array of objects each with
    a non-empty string ``type`` (RFC 9396 §2); then
    :func:`~rar_provider.details.limits.check_limits` applies.

    Raises :class:`~rar_provider.errors.AuthorizationDetailsProblem` with the
    error ``invalid_authorization_details`` (RFC 9396 §5).
    """
    if raw is None or raw == "":
        return []
    size = len(raw.encode("utf-8", "surrogatepass"))
    if size > limits.max_bytes:
        raise AuthorizationDetailsProblem(f"{ROOT} is {size} bytes; at most {limits.max_bytes} are allowed")
    value = _loads(raw)
    if not isinstance(value, list):
        raise AuthorizationDetailsProblem(f"{ROOT} must be a JSON array of objects")
    if not value:
        raise AuthorizationDetailsProblem(f"{ROOT} must not be an empty array")
    for index, detail in enumerate(value):
        where = path_join(ROOT, index)
        if not isinstance(detail, dict):
            raise AuthorizationDetailsProblem(f"{where} must be a JSON object")
        if "type" not in detail:
            raise AuthorizationDetailsProblem(f'{where} has no "type"')
        if not isinstance(detail["type"], str) or not detail["type"]:
            raise AuthorizationDetailsProblem(f"{where}.type must be a non-empty string")
    check_limits(value, limits)
    return value
