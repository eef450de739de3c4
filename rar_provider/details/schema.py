"""Validating an entry against the JSON Schema registered for its type (RFC 9396 §2, §5).

RFC 9396 §2 leaves the fields of each authorization details type to the
type's definition; this server describes them with a JSON Schema per type.
An entry that does not match is refused with ``invalid_authorization_details``
(§5). Draft 2020-12 applies unless the schema's ``$schema`` names another
draft; ``format`` is checked. Remote ``$ref``\\ s are never fetched.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

from jsonschema.exceptions import SchemaError, ValidationError, best_match
from jsonschema.protocols import Validator
from jsonschema.validators import Draft202012Validator, validator_for
from referencing.exceptions import Unresolvable

from ..errors import AuthorizationDetailsProblem
from .limits import ROOT, path_join

__all__ = ["check_schema_is_valid", "validate_against_schema"]

#: Longest error message passed on to the client (jsonschema messages quote the offending value).
MAX_MESSAGE_LENGTH = 300


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
    cls = _validator_class(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


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
