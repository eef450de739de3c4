"""DRF parsers for APIs behind the guard: a body a client can send never becomes a 500.

DRF's ``JSONParser`` lets Python's ``RecursionError`` escape on JSON nested a few thousand levels
deep (``[[[[…]]]]``), which Django answers with a 500. :class:`JSONParser` here answers 400
(``ParseError``) instead, and refuses nesting deeper than :attr:`JSONParser.max_depth` before it
can cost anything.
"""

from __future__ import annotations

from rest_framework import parsers
from rest_framework.exceptions import ParseError


def _depth_exceeds(data: object, limit: int) -> bool:
    """True when ``data`` (parsed JSON) nests arrays/objects deeper than ``limit`` levels."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > limit:
                return True
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children)
    return False


class JSONParser(parsers.JSONParser):
    """``application/json`` with a bounded nesting depth; too deep → 400 ``ParseError``.

    ``max_depth``: the deepest nesting of arrays and objects accepted (default 32).
    """

    max_depth = 32

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError(
                f"JSON parse error - nested too deeply (more than {self.max_depth} levels)"
            ) from exc
        if _depth_exceeds(data, self.max_depth):
            raise ParseError(f"JSON parse error - nested too deeply (more than {self.max_depth} levels)")
        return data
