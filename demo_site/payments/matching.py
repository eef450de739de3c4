"""Does a requested transfer match an approved ``money_transfer`` detail, field by field? (RFC 9396 §2)

Pure functions, no request. The comparison is exact: amounts as decimals
(``"2500.00"`` equals ``2500``), every other field as strings.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

#: The fields compared, by their dotted name in the money_transfer schema.
FIELDS = (
    "instructedAmount.amount",
    "instructedAmount.currency",
    "sourceAccount",
    "destinationAccount",
    "beneficiary",
    "subject",
)


def as_decimal(value: Any) -> Decimal | None:
    """A JSON number or numeric string as a finite Decimal; None for anything else (booleans too)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _value(data: dict, dotted: str) -> Any:
    for part in dotted.split("."):
        data = data.get(part) if isinstance(data, dict) else None
    return data


def mismatched_fields(detail: dict, transfer: dict) -> list[str]:
    """The fields of ``transfer`` (validated request data) that differ from the approved ``detail``.

    ``subject`` is compared only when the request gives one (the approved one is used otherwise).
    """
    mismatches = []
    for name in FIELDS:
        requested, approved = _value(transfer, name), _value(detail, name)
        if name == "subject":
            if "subject" in transfer and requested != (approved or ""):
                mismatches.append(name)
        elif name == "instructedAmount.amount":
            approved_amount = as_decimal(approved)
            if approved_amount is None or approved_amount != as_decimal(requested):
                mismatches.append(name)
        elif not isinstance(approved, str) or requested != approved:
            mismatches.append(name)
    return mismatches


def closest(candidates: list[tuple[int, dict]], transfer: dict) -> tuple[int | None, list[str]]:
    """The first candidate (index, detail) with the fewest mismatched fields, and those fields."""
    best: tuple[int | None, list[str]] = (None, list(FIELDS))
    for index, detail in candidates:
        mismatches = mismatched_fields(detail, transfer)
        if len(mismatches) < len(best[1]):
            best = (index, mismatches)
    return best
