"""Presentation rows for showing an authorization detail to the user (RFC 9396 §3, §7).

RFC 9396 §3: the authorization server must show the user what the client
asks for, in a form the user understands. This module turns an entry into
plain label/value rows; it produces no HTML (the templates escape every
value).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = ["EMPTY", "Row", "format_amount", "humanize_key", "is_amount", "present_detail"]

#: Shown for ``null`` and for empty objects and arrays.
EMPTY = "—"

_WORDS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
_NUMERIC_STRING = re.compile(r"-?[0-9]+(\.[0-9]+)?")
_CURRENCY = re.compile(r"[A-Za-z]{3}")


@dataclass
class Row:
    """One line of the consent page: a label and either a value or child rows.

    ``is_list`` marks an array of plain values: its children have an empty
    label and are shown as a list.
    """

    label: str
    value: str | None = None
    children: list[Row] = field(default_factory=list)
    is_list: bool = False


#: Words shown in capitals whatever their case in the key (``iban`` → "IBAN").
ACRONYMS = frozenset({"iban", "bic", "id", "url", "uri", "api", "bban", "pan", "vat", "ip"})


def humanize_key(key: str) -> str:
    """A label for a property name: ``instructedAmount`` → "Instructed amount".

    ``source_account`` → "Source account"; acronyms stay (``IBAN``,
    ``creditorIBAN`` → "Creditor IBAN"); of a dotted key
    (``creditorAccount.iban``) only the last part is used.
    """
    parts = [part for part in key.split(".") if part]
    last = parts[-1] if parts else key
    words = _WORDS.findall(last)
    if not words:
        return last
    out = []
    for position, word in enumerate(words):
        if word.lower() in ACRONYMS:
            out.append(word.upper())
        elif len(word) > 1 and word.isupper():
            out.append(word)
        elif position == 0:
            out.append(word[:1].upper() + word[1:].lower())
        else:
            out.append(word.lower())
    return " ".join(out)


def _decimal(value: Any) -> Decimal | None:
    """The amount as a finite Decimal: a JSON number (not a boolean) or a plain numeric string."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        number = Decimal(
            repr(value)
        )  # repr: the shortest text that round-trips, 0.1 not 0.1000000000000000055…
        return number if number.is_finite() else None
    if isinstance(value, str) and _NUMERIC_STRING.fullmatch(value):
        try:
            return Decimal(value)
        except InvalidOperation:  # pragma: no cover - the pattern only lets valid numbers through
            return None
    return None


def is_amount(value: Any) -> bool:
    """True for a monetary amount as in RFC 9396 §2 examples: ``{"amount": "123.50", "currency": "EUR"}``.

    Exactly the keys ``amount`` (a number or numeric string) and ``currency``
    (three letters, as ISO 4217 codes are).
    """
    return (
        isinstance(value, dict)
        and value.keys() == {"amount", "currency"}
        and _decimal(value["amount"]) is not None
        and isinstance(value["currency"], str)
        and _CURRENCY.fullmatch(value["currency"]) is not None
    )


def format_amount(value: dict) -> str:
    """``{"amount": 2500, "currency": "USD"}`` → "2,500.00 USD".

    Thousands are grouped; two decimals are shown, or more when the amount
    has more (``"0.125"`` → "0.125"). Raises ``ValueError`` if ``value`` is
    not an amount (see :func:`is_amount`).
    """
    if not is_amount(value):
        raise ValueError("not an amount: expected {amount, currency}")
    number = _decimal(value["amount"])
    assert number is not None  # checked by is_amount
    exponent = number.as_tuple().exponent
    places = max(2, -exponent) if isinstance(exponent, int) else 2
    return f"{number:,.{places}f} {value['currency']}"


def _scalar(value: Any) -> str:
    if value is None:
        return EMPTY
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, str):
        return value
    return str(value)


def _is_plain(value: Any) -> bool:
    """A value shown as one string: a scalar or an amount."""
    return not isinstance(value, dict | list) or is_amount(value)


def _plain(value: Any) -> str:
    return format_amount(value) if is_amount(value) else _scalar(value)


def _row(label: str, value: Any, path: str, labels: Mapping[str, str]) -> Row:
    if _is_plain(value):
        return Row(label=label, value=_plain(value))
    if not value:
        return Row(label=label, value=EMPTY)
    if isinstance(value, dict):
        return Row(label=label, children=_rows(value, value.keys(), path, labels))
    if all(_is_plain(item) for item in value):
        return Row(label=label, children=[Row(label="", value=_plain(item)) for item in value], is_list=True)
    return Row(
        label=label,
        children=[_row(str(number), item, path, labels) for number, item in enumerate(value, start=1)],
    )


def _rows(
    detail: Mapping[str, Any], keys: Sequence[str] | Any, prefix: str, labels: Mapping[str, str]
) -> list[Row]:
    rows = []
    for key in keys:
        path = f"{prefix}.{key}" if prefix else key
        label = labels.get(path) or labels.get(key) or humanize_key(key)
        rows.append(_row(label, detail[key], path, labels))
    return rows


def present_detail(
    detail: dict,
    *,
    exclude: Sequence[str] = ("type",),
    labels: Mapping[str, str] | None = None,
    fields: Sequence[str] | None = None,
) -> list[Row]:
    """Rows describing one authorization detail for the consent page (RFC 9396 §3).

    One row per property, in the detail's order without the ``exclude``\\ d
    ones; with ``fields`` (an operator's choice), those fields come first in
    that order and every other property follows, so no granted value is left
    out (RFC 9396 §3). Scalars become strings (``true`` →
    "Yes", ``null`` → "—"), amounts "2,500.00 USD", objects child rows,
    arrays of plain values child rows with an empty label and
    ``is_list=True``, other arrays child rows labelled "1", "2", ….

    ``labels`` maps a property name, or a dotted path such as
    ``creditorAccount.iban``, to the label to show instead of
    :func:`humanize_key`'s.
    """
    labels = labels or {}
    keys = [key for key in detail if key not in exclude]
    if fields is not None:
        chosen = [key for key in fields if key in detail]
        keys = chosen + [key for key in keys if key not in chosen]
    return _rows(detail, keys, "", labels)
