"""The "instruction + properties" shape of an authorization detail (the reference product's schema).

::

    {"type": "…", "instruction": "Please approve the request.",
     "properties": {"email": {"display": true, "name": "Email", "display_order": 1,
                              "description": "…", "value": "a@example.com"},
                    "internal": {"display": false, "value": "not shown"}}}

Properties with ``display: true`` are shown first, in ``display_order``
(a number or numeric string; properties without one come last, in document
order). The others are granted too, so they are shown as well, after them
("More details"): the client that writes the request must not be able to hide a
granted value from the user (RFC 9396 §3). Other top-level members
(``actions``, say) are shown as rows. The values are plain strings or rows,
never HTML.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from .present import Row, humanize_key, present_detail

__all__ = ["PROPERTY_MEMBERS", "Instruction", "Property", "is_instruction_shape", "present_instruction"]


@dataclass
class Property:
    key: str
    name: str
    description: str
    value: str | None
    children: list[Row] = field(default_factory=list)
    is_list: bool = False


@dataclass
class Instruction:
    instruction: str
    #: The properties marked ``display: true``, in ``display_order``.
    properties: list[Property]
    #: The other properties, in document order: granted, so shown too (after the first ones).
    more: list[Property] = field(default_factory=list)
    #: Rows for the detail's other members (not ``type``, ``instruction`` or ``properties``).
    others: list[Row] = field(default_factory=list)


#: The members a property of the shape may have; any other would be granted but not shown.
PROPERTY_MEMBERS = frozenset({"value", "display", "name", "display_order", "description"})


def _is_property(prop: Any) -> bool:
    return (
        isinstance(prop, dict)
        and "value" in prop
        and prop.keys() <= PROPERTY_MEMBERS
        and isinstance(prop.get("display", False), bool)
        and isinstance(prop.get("name", ""), str)
        and isinstance(prop.get("description", ""), str)
    )


def is_instruction_shape(detail: Any) -> bool:
    """A dict whose ``properties`` is an object of objects, each with a ``value`` and nothing but
    :data:`PROPERTY_MEMBERS` (``display`` a boolean, ``name`` and ``description`` strings).

    ``instruction``, when present, must be a string. Anything else is shown by the generic partial,
    every member as a row: a property member this shape does not show (``"permission": …``) must
    not be granted unseen (RFC 9396 §3).
    """
    if not isinstance(detail, dict):
        return False
    properties = detail.get("properties")
    instruction = detail.get("instruction", "")
    return (
        isinstance(instruction, str)
        and isinstance(properties, dict)
        and bool(properties)
        and all(_is_property(p) for p in properties.values())
    )


def _order(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value)) if isinstance(value, int | float | str) else None
    except InvalidOperation:
        return None
    return number if number is not None and number.is_finite() else None


def present_instruction(detail: dict) -> Instruction:
    """The instruction and the displayed properties, in order (raises ``ValueError`` for another shape)."""
    if not is_instruction_shape(detail):
        raise ValueError("not an instruction + properties detail")
    shown, more = [], []
    for position, (key, prop) in enumerate(detail["properties"].items()):
        order = _order(prop.get("display_order"))
        name = prop.get("name")
        label = (
            name.strip().rstrip(":").strip() if isinstance(name, str) and name.strip() else humanize_key(key)
        )
        description = prop.get("description") if isinstance(prop.get("description"), str) else ""
        (row,) = present_detail({"value": prop["value"]}, fields=["value"])
        item = Property(key, label, description, row.value, row.children, row.is_list)
        if prop.get("display") is not True:
            more.append(item)
            continue
        sort_key = (0, order, position) if order is not None else (1, Decimal(0), position)
        shown.append((sort_key, item))
    shown.sort(key=lambda pair: pair[0])
    return Instruction(
        instruction=detail.get("instruction", ""),
        properties=[p for _, p in shown],
        more=more,
        others=present_detail(detail, exclude=("type", "instruction", "properties")),
    )
