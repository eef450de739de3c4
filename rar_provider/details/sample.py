"""A sample ``authorization_details`` entry built from a type's JSON Schema.

Admin's live preview (the type's change page) starts from it, so an operator sees the consent
rendering before any client sends a request; the operator then edits it. Pure: no Django.
The sample aims to be readable, not to satisfy every keyword: ``pattern`` is not inverted.
"""

from __future__ import annotations

from typing import Any

#: Property names whose sample value is better than a generic string.
_NAMED = {
    "currency": "EUR",
    "iban": "DE02100100109307118603",
    "bic": "PBNKDEFF",
    "country": "DE",
    "amount": "100.00",
}
_FORMATS = {
    "date": "2026-01-31",
    "date-time": "2026-01-31T12:00:00Z",
    "email": "someone@example.com",
    "uri": "https://example.com/",
    "uuid": "123e4567-e89b-12d3-a456-426614174000",
}
_MAX_DEPTH = 5


def sample_value(schema: Any, name: str = "", depth: int = 0) -> Any:
    """A value that reads like real data for ``schema`` (``const``, ``default``, ``examples`` first)."""
    if not isinstance(schema, dict) or depth > _MAX_DEPTH:
        return "example"
    for key in ("const", "default"):
        if key in schema:
            return schema[key]
    if isinstance(schema.get("examples"), list) and schema["examples"]:
        return schema["examples"][0]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    for key in ("oneOf", "anyOf", "allOf"):
        if isinstance(schema.get(key), list) and schema[key]:
            return sample_value(schema[key][0], name, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "string")
    if kind is None and "properties" in schema:
        kind = "object"
    if kind == "object":
        properties = schema.get("properties") or {}
        return {key: sample_value(sub, key, depth + 1) for key, sub in properties.items()}
    if kind == "array":
        return [sample_value(schema.get("items", {}), name, depth + 1)]
    if kind in ("number", "integer"):
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0))
        value = max(100, low + 1 if "exclusiveMinimum" in schema else low)
        high = schema.get("maximum")
        return min(value, high) if isinstance(high, int | float) else value
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    if name.lower() in _NAMED:
        return _NAMED[name.lower()]
    return _FORMATS.get(schema.get("format", ""), "example")


def sample_detail(type_name: str, schema: Any) -> dict:
    """An entry ``{"type": type_name, …}`` with a sample value for every declared property."""
    value = sample_value(schema) if isinstance(schema, dict) and schema.get("properties") else {}
    detail = value if isinstance(value, dict) else {}
    return {"type": type_name, **{k: v for k, v in detail.items() if k != "type"}}
