"""Is every granted value on the page? (RFC 9396 §3: the user must see what they authorize.)

A partial chosen for a type (a project's own template, or the "instruction + properties" one) may
leave values out: a hand-made ``money_transfer`` partial that shows the amount only when the
currency looks like a currency showed payee and accounts with **no amount** for ``"USD\\n"``. This
module lists the values of a detail a page must show, and finds the ones a rendered page lacks, so
the consent page can fall back to the generic partial, which shows everything.

Pure functions; the text compared is the page's visible text (tags removed, entities decoded,
whitespace collapsed). A value counts as shown when one of its accepted spellings appears in it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from .instruction import is_instruction_shape
from .limits import ROOT, path_join
from .present import EMPTY

__all__ = ["missing_values", "shown_text", "value_spellings"]

_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")
#: Presentation keys of an "instruction + properties" property: layout, not granted values.
_LAYOUT_KEYS = ("display", "display_order")


def shown_text(page: str) -> str:
    """The visible text of an HTML fragment: tags dropped, entities decoded, whitespace collapsed."""
    return _SPACE.sub(" ", html.unescape(_TAG.sub(" ", page))).strip()


def _collapse(text: str) -> str:
    return _SPACE.sub(" ", text).strip()


def value_spellings(value: Any) -> tuple[str, ...]:
    """The ways a page may show one JSON value: any one of them counts (empty: nothing to find).

    Strings as they are (whitespace collapsed); numbers as JSON writes them, grouped ("2,500") or
    with two decimals ("2,500.00"); booleans as "Yes"/"No" or "true"/"false"; ``null`` as "—".
    """
    if isinstance(value, bool):
        return ("Yes", "true") if value else ("No", "false")
    if value is None:
        return (EMPTY, "null")
    if isinstance(value, int | float):
        return tuple(sorted({str(value), *_number_spellings(value)}))
    if isinstance(value, str):
        collapsed = _collapse(value)
        if not collapsed:
            return ()
        return tuple(sorted({collapsed, *(_number_spellings(value) if _NUMERIC.fullmatch(value) else ())}))
    return ()


_NUMERIC = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def _number_spellings(value: int | float | str) -> set[str]:
    """A number grouped ("2,500"), with two decimals or more ("2,500.00", as amounts are shown)."""
    number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if not number.is_finite():
        return set()
    exponent = number.as_tuple().exponent
    places = max(2, -exponent) if isinstance(exponent, int) else 2
    return {f"{number:,}", f"{number:,.2f}", f"{number:.2f}", f"{number:,.{places}f}"}


def _leaves(path: str, value: Any) -> Iterator[tuple[str, tuple[str, ...]]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(path_join(path, key), item)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(path_join(path, index), item)
    else:
        spellings = value_spellings(value)
        if spellings:
            yield path, spellings


def required_values(index: int, detail: dict) -> Iterator[tuple[str, tuple[str, ...]]]:
    """``(path, spellings)`` for each value entry ``index`` grants, ``type`` aside (its label is shown).

    For the "instruction + properties" shape the values are the instruction and each property's
    ``value`` (its ``name`` and ``description`` are labels, ``display`` and ``display_order`` layout).
    """
    root = path_join(ROOT, index)
    for key, value in detail.items():
        if key == "type":
            continue
        if key == "properties" and is_instruction_shape(detail):
            for name, prop in value.items():
                where = path_join(path_join(root, key), name)
                for sub_key, sub_value in prop.items():
                    if sub_key not in _LAYOUT_KEYS and sub_key != "name":
                        yield from _leaves(path_join(where, sub_key), sub_value)
            continue
        yield from _leaves(path_join(root, key), value)


def missing_values(index: int, detail: dict, page: str) -> list[str]:
    """The paths of the values of entry ``index`` that the rendered ``page`` (HTML) does not show.

    Each value must be found in a place of its own: longest values first, every match is taken out
    of the text before the next value is looked for, so a value is not "found" inside another one
    (``"example"`` inside the shown ``"alice@example.com"``).
    """
    text = shown_text(page)
    required = sorted(required_values(index, detail), key=lambda pair: -max(len(s) for s in pair[1]))
    missing = []
    for path, spellings in required:
        found = next(
            (spelling for spelling in sorted(spellings, key=len, reverse=True) if spelling in text), None
        )
        if found is None:
            missing.append(path)
        else:
            text = text.replace(found, "\x00", 1)
    order = {path: position for position, (path, _) in enumerate(required_values(index, detail))}
    return sorted(missing, key=order.__getitem__)
