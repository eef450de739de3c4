"""Size and shape limits on ``authorization_details`` (RFC 9396 §2, §5, §12).

RFC 9396 leaves it to the authorization server to bound what it accepts;
§12 (Security Considerations) asks it to guard against oversized or
maliciously crafted requests. These limits are checked on the parsed value,
after the raw size limit (``Limits.max_bytes``) has already been enforced by
:func:`rar_provider.details.parse.parse_authorization_details`.

Depth is counted in JSON containers (objects and arrays): the entry object
itself (an element of the ``authorization_details`` array) is level 1, an
object or array that is a value inside it is level 2, a container inside that
one is level 3, and so on. Scalars add no level. With ``max_depth=5`` the
deepest allowed container is at level 5; a container at level 6 is refused.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from ..errors import AuthorizationDetailsProblem

__all__ = ["Limits", "check_limits", "path_join"]

ROOT = "authorization_details"


@dataclass(frozen=True)
class Limits:
    """Server-chosen bounds on ``authorization_details`` (RFC 9396 §12)."""

    #: Size of the raw JSON text, in UTF-8 bytes.
    max_bytes: int = 5120
    #: Entries in the ``authorization_details`` array.
    max_entries: int = 5
    #: Properties per object (every object at any depth, ``type`` included).
    max_properties: int = 10
    #: Length of a property name, in characters.
    max_name_length: int = 255
    #: Length of every string value at any depth (strings inside arrays too), in characters.
    max_string_length: int = 255
    #: Levels of nested objects/arrays; the entry object itself is level 1 (see the module docstring).
    max_depth: int = 5
    #: Every property name must match this pattern (as a whole: ``re.fullmatch``).
    name_pattern: str = r"^[A-Za-z0-9_.-]+$"


@lru_cache(maxsize=32)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def path_join(path: str, key: str | int) -> str:
    """JSON path of ``key`` inside ``path``: ``a.b`` for properties, ``a[1]`` for array items."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}"


def _is_unicode(text: str) -> bool:
    """False if ``text`` holds an unpaired surrogate (from a JSON ``\\ud800`` escape): not Unicode text."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


#: Unicode categories of characters a consent page cannot show faithfully: controls (``\\n``, NUL…),
#: format characters (bidi overrides such as U+202E, zero-width spaces, BOM) and line/paragraph
#: separators. They could hide or reorder what the user reads (RFC 9396 §3, §12).
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})
#: Format characters that scripts need to spell words (Persian, Indic) and emoji: kept between two
#: non-ASCII characters, refused next to ASCII (``98\u200d76`` reads as ``9876``).
_JOINERS = frozenset({"\u200c", "\u200d"})
#: Characters drawn as nothing (or as a blank) outside the categories above: Unicode's
#: Default_Ignorable_Code_Point characters that are not format characters (the combining grapheme
#: joiner, Hangul fillers, Khmer inherent vowels, Mongolian and other variation selectors, tag and
#: reserved ignorables) and the blank braille pattern. Ranges of code points, inclusive.
_BLANK_RANGES = (
    (0x034F, 0x034F),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x2065, 0x2065),
    (0x2800, 0x2800),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)


def _drawn_blank(char: str) -> bool:
    code = ord(char)
    return any(low <= code <= high for low, high in _BLANK_RANGES)


def invisible_character(text: str) -> str | None:
    """The first character of ``text`` that would be invisible or reorder text, as ``U+XXXX``; else None.

    Refused: every control character (categories Cc; tab and newline included), format character
    (Cf: U+202E right-to-left override, U+200B zero-width space, U+FEFF…), the line and paragraph
    separators (Zl, Zp), and the other characters drawn as nothing or as a blank (Unicode's default
    ignorables such as U+034F, U+3164, the variation selectors; U+2800). The zero-width
    (non-)joiners U+200C/U+200D are kept between two non-ASCII characters (Persian, Indic, emoji),
    refused elsewhere.
    """
    if text.isascii() and text.isprintable():
        return None
    for position, char in enumerate(text):
        if char in _JOINERS:
            before = text[position - 1] if position else "a"
            after = text[position + 1] if position + 1 < len(text) else "a"
            if before.isascii() or after.isascii():
                return f"U+{ord(char):04X}"
        elif unicodedata.category(char) in _INVISIBLE_CATEGORIES or _drawn_blank(char):
            return f"U+{ord(char):04X}"
    return None


def _check_string(path: str, value: str, limits: Limits) -> None:
    if len(value) > limits.max_string_length:
        raise AuthorizationDetailsProblem(
            f"{path}: string is longer than {limits.max_string_length} characters"
        )
    if not _is_unicode(value):
        raise AuthorizationDetailsProblem(f"{path}: string contains an unpaired surrogate")
    if "\x00" in value:  # no database stores U+0000 in text or jsonb (PostgreSQL refuses it)
        raise AuthorizationDetailsProblem(f"{path}: string contains a NUL character (U+0000)")
    invisible = invisible_character(value)
    if invisible:
        raise AuthorizationDetailsProblem(
            f"{path}: string contains the character {invisible}; control, invisible and "
            "direction-changing characters are not allowed (the user could not see them)"
        )


def _check_name(path: str, name: str, limits: Limits) -> None:
    if len(name) > limits.max_name_length:
        shown = name[:40] + "…"
        raise AuthorizationDetailsProblem(
            f'{path}: property name "{shown}" is longer than {limits.max_name_length} characters'
        )
    if not _compiled(limits.name_pattern).fullmatch(name) or not _is_unicode(name) or "\x00" in name:
        if limits.name_pattern == Limits.name_pattern:
            rule = "may only contain a-z A-Z 0-9 _ . -"
        else:
            rule = f"must match {limits.name_pattern}"
        raise AuthorizationDetailsProblem(f"{path}: property name {_quote(name)} {rule}")


def _quote(name: str) -> str:
    """The name in double quotes, with unprintable characters escaped so the message stays readable."""
    if name.isprintable() and _is_unicode(name):
        return f'"{name}"'
    return '"' + name.encode("unicode_escape", "backslashreplace").decode("ascii").replace('"', '\\"') + '"'


def _walk(path: str, value: Any, level: int, limits: Limits) -> None:
    """Check ``value`` found at ``path``; ``level`` is the depth ``value`` would have if it is a container."""
    if isinstance(value, str):
        _check_string(path, value, limits)
        return
    if not isinstance(value, dict | list):
        return
    if level > limits.max_depth:
        raise AuthorizationDetailsProblem(
            f"{path}: nested too deeply; at most {limits.max_depth} levels of objects and arrays are "
            "allowed (the entry object is level 1)"
        )
    if isinstance(value, list):
        for index, item in enumerate(value):
            _walk(path_join(path, index), item, level + 1, limits)
        return
    if len(value) > limits.max_properties:
        raise AuthorizationDetailsProblem(
            f"{path}: has {len(value)} properties; at most {limits.max_properties} are allowed"
        )
    for name, item in value.items():
        _check_name(path, name, limits)
        _walk(path_join(path, name), item, level + 1, limits)


def check_limits(details: list[dict], limits: Limits) -> None:
    """RFC 9396 §12: refuse ``authorization_details`` beyond the server's limits.

    Checks the number of entries, then walks every entry: properties per
    object, property name length and pattern, string length and characters
    (at any depth, inside arrays too: no control, invisible or bidi
    characters, see :func:`invisible_character`) and nesting depth (the
    entry object is level 1).
    Raises :class:`~rar_provider.errors.AuthorizationDetailsProblem` whose
    description names the entry index and the JSON path of the offending
    value, e.g. ``authorization_details[0].instructedAmount.currency: string
    is longer than 255 characters``.
    """
    if len(details) > limits.max_entries:
        raise AuthorizationDetailsProblem(
            f"{ROOT}: {len(details)} entries; at most {limits.max_entries} are allowed"
        )
    for index, detail in enumerate(details):
        _walk(path_join(ROOT, index), detail, 1, limits)
