"""Validating an entry against the JSON Schema registered for its type (RFC 9396 §2, §5).

RFC 9396 §2 leaves the fields of each authorization details type to the
type's definition; this server describes them with a JSON Schema per type.
An entry that does not match is refused with ``invalid_authorization_details``
(§5). Draft 2020-12 applies unless the schema's ``$schema`` names another
draft. Remote ``$ref``\\ s are never fetched.

The semantics are the ones JSON Schema declares, not Python's:

* ``pattern`` and ``patternProperties`` are ECMA-262 regular expressions
  (Draft 2020-12 §6.4): they run on the ``regress`` engine, so ``$`` matches
  only at the very end (under Python's ``re`` it also matches before a final
  newline: ``"USD\\n"`` passed ``^[A-Z]{3}$``). A schema whose pattern is not
  ECMA-262 is refused when it is registered.
* ``format`` is asserted (not just annotated) with a format checker: ``uri``,
  ``uri-reference``, ``email``, ``date``, ``date-time``, ``time``, ``uuid``,
  ``ipv4``/``ipv6``, ``hostname``…, plus ``iban`` (ISO 13616 check digits).
  A ``uri`` must also not use a scheme that runs code when followed
  (``javascript:``, ``vbscript:``, ``data:``): this server's stricter reading.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import Any
from urllib.parse import unquote, urlsplit

import regress
from jsonschema import FormatChecker
from jsonschema.exceptions import SchemaError, ValidationError, best_match
from jsonschema.protocols import Validator
from jsonschema.validators import Draft202012Validator, extend, validator_for
from referencing.exceptions import Unresolvable
from stdnum import iban as iso13616

from ..errors import AuthorizationDetailsProblem
from .limits import ROOT, path_join

__all__ = ["check_schema_is_valid", "validate_against_schema"]

#: Longest error message passed on to the client (jsonschema messages quote the offending value).
MAX_MESSAGE_LENGTH = 300
#: URI schemes refused by the ``uri`` format: following such a link runs code or hides content.
SCRIPT_SCHEMES = frozenset({"javascript", "vbscript", "data"})


@lru_cache(maxsize=512)
def ecma_regex(pattern: str) -> regress.Regex:
    """``pattern`` compiled as an ECMA-262 regular expression with the ``u`` flag.

    Raises ``ValueError`` (``regress.RegressError``) when it is not one.
    """
    try:
        return regress.Regex(pattern, flags="u")
    except regress.RegressError as exc:
        raise ValueError(f"{pattern!r} is not an ECMA-262 regular expression: {exc}") from exc


def _search(pattern: str, text: str) -> bool:
    return ecma_regex(pattern).find(text) is not None


def _pattern(validator: Validator, pattern: str, instance: Any, schema: dict) -> Iterator[ValidationError]:
    """Draft 2020-12 §6.3.3 ``pattern``, with ECMA-262 semantics."""
    if validator.is_type(instance, "string") and not _search(pattern, instance):
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(
    validator: Validator, patterns: dict, instance: Any, schema: dict
) -> Iterator[ValidationError]:
    """Draft 2020-12 §10.3.2.2 ``patternProperties``, with ECMA-262 semantics."""
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in patterns.items():
        for name, value in instance.items():
            if _search(pattern, name):
                yield from validator.descend(value, subschema, path=name, schema_path=pattern)


def _is_safe_uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    return urlsplit(value).scheme.lower() not in SCRIPT_SCHEMES


def _is_iban(value: object) -> bool:
    return not isinstance(value, str) or iso13616.is_valid(value)


@lru_cache(maxsize=8)
def _strict(cls: type[Validator]) -> tuple[type[Validator], FormatChecker]:
    """``cls`` with ECMA-262 patterns, and its format checker with ``iban`` and the safe ``uri``."""
    strict = extend(cls, {"pattern": _pattern, "patternProperties": _pattern_properties})
    checker = copy.deepcopy(cls.FORMAT_CHECKER)
    uri, raises = checker.checkers.get("uri", (lambda value: True, ()))
    checker.checkers["uri"] = (lambda value: uri(value) and _is_safe_uri(value), raises)
    checker.checkers["iban"] = (_is_iban, ())
    return strict, checker


def _path(parts: Iterable[str | int]) -> str:
    """``properties.a[0].b`` for the parts ``["properties", "a", 0, "b"]``; ``""`` for none."""
    text = ""
    for part in parts:
        text = path_join(text, part)
    return text[1:] if text.startswith(".") else text


def _validator_class(schema: dict[str, Any]) -> type[Validator]:
    """The draft named by ``$schema`` (Draft 2020-12 without one); ``ValueError`` for an unknown one."""
    if "$schema" in schema:
        uri = schema["$schema"]
        if not isinstance(uri, str):
            raise ValueError("$schema must be a string")
        cls = validator_for(schema, default=None)  # type: ignore[arg-type]
        if cls is None:
            raise ValueError(f"$schema names an unknown JSON Schema draft: {uri[:100]}")
        return cls
    return Draft202012Validator


def check_schema_is_valid(schema: object) -> None:
    """Raise ``ValueError`` with a readable message unless ``schema`` is a usable JSON Schema object.

    Used when a type's schema is registered (RFC 9396 §2: each type defines
    its fields). Only a JSON object is accepted (not the boolean schemas).
    """
    if not isinstance(schema, dict):
        raise ValueError("a JSON Schema must be a JSON object")
    cls = _validator_class(schema)
    try:
        cls.check_schema(schema)
    except SchemaError as exc:
        where = _path(exc.absolute_path)
        raise ValueError(f"{where}: {exc.message}" if where else exc.message) from exc
    _check_references(schema, schema, [])
    _check_patterns(schema, [])


def _check_patterns(node: object, path: list) -> None:
    """Every ``pattern`` and ``patternProperties`` name must be an ECMA-262 regular expression."""
    if isinstance(node, list):
        for index, item in enumerate(node):
            _check_patterns(item, [*path, index])
        return
    if not isinstance(node, dict):
        return
    patterns = []
    if isinstance(node.get("pattern"), str):
        patterns.append((node["pattern"], [*path, "pattern"]))
    if isinstance(node.get("patternProperties"), dict):
        patterns += [(name, [*path, "patternProperties"]) for name in node["patternProperties"]]
    for pattern, where in patterns:
        try:
            ecma_regex(pattern)
        except ValueError as exc:
            raise ValueError(f"{_path(where)}: {exc}") from exc
    for key, value in node.items():
        if key not in ("const", "enum", "examples", "default"):
            _check_patterns(value, [*path, key])


def _check_references(root: dict, node: object, path: list) -> None:
    """Every ``$ref`` must be a local JSON Pointer (``#/$defs/x``) that resolves in ``root``.

    Remote schemas are never fetched, so a reference elsewhere could never be
    used; one that does not resolve would fail every request of the type.
    """
    if isinstance(node, list):
        for index, item in enumerate(node):
            _check_references(root, item, [*path, index])
        return
    if not isinstance(node, dict):
        return
    ref = node.get("$ref")
    if isinstance(ref, str):
        where = _path([*path, "$ref"])
        if not ref.startswith("#"):
            raise ValueError(f"{where}: only local references (#/...) are supported, not {ref!r}")
        target: object = root
        pointer = unquote(ref[1:])
        for token in pointer.split("/")[1:] if pointer else []:
            token = token.replace("~1", "/").replace("~0", "~")
            if isinstance(target, dict) and token in target:
                target = target[token]
            elif isinstance(target, list) and token.isdigit() and int(token) < len(target):
                target = target[int(token)]
            else:
                raise ValueError(f"{where}: {ref!r} does not resolve in this schema")
    for key, value in node.items():
        if key not in ("const", "enum", "examples", "default"):
            _check_references(root, value, [*path, key])


@lru_cache(maxsize=256)
def _compiled(key: str) -> Validator:
    """A ready validator for the schema serialized as ``key`` (cached: schemas rarely change)."""
    schema = json.loads(key)
    check_schema_is_valid(schema)
    strict, format_checker = _strict(_validator_class(schema))
    return strict(schema, format_checker=format_checker)


def _shorten(message: str) -> str:
    if len(message) <= MAX_MESSAGE_LENGTH:
        return message
    return message[: MAX_MESSAGE_LENGTH - 1] + "…"


def validate_against_schema(index: int, detail: dict, schema: dict) -> None:
    """RFC 9396 §5: refuse entry ``index`` of ``authorization_details`` unless it matches ``schema``.

    The description names the entry and the field, e.g.
    ``authorization_details[0].instructedAmount.amount: 'abc' is not of type
    'number'``. A schema the server cannot use (invalid, or with a ``$ref``
    that cannot be resolved) is the server's fault: the problem then carries
    the error ``server_error``.
    """
    where = path_join(ROOT, index)
    try:
        validator = _compiled(json.dumps(schema, sort_keys=True))
        error: ValidationError | None = best_match(validator.iter_errors(detail))
    except (ValueError, Unresolvable) as exc:
        raise AuthorizationDetailsProblem(
            f'{where}: the JSON Schema for type "{str(detail.get("type"))[:100]}" could not be applied',
            error="server_error",
        ) from exc
    if error is None:
        return
    location = where
    for part in error.absolute_path:
        location = path_join(location, part)
    raise AuthorizationDetailsProblem(f"{location}: {_shorten(error.message)}")
