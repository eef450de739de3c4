"""Deep nesting is refused the same way on every Python (3.13 no longer hits a RecursionError at 2,000).

Found by the nox matrix: on Python 3.13 ``[[[…]]]`` 2,000 deep parsed and was refused later with a
different message. The depth is now measured before parsing.
"""

from __future__ import annotations

import json

import pytest

from rar_provider.details.limits import Limits
from rar_provider.details.parse import PARSE_DEPTH_LIMIT, parse_authorization_details
from rar_provider.errors import AuthorizationDetailsProblem


@pytest.mark.parametrize("depth", [PARSE_DEPTH_LIMIT + 1, 2000, 50_000])
def test_too_deep_is_refused_before_parsing(depth):
    raw = "[" * depth + "]" * depth
    with pytest.raises(AuthorizationDetailsProblem) as raised:
        parse_authorization_details(raw, Limits(max_bytes=200_000))
    assert raised.value.description == "authorization_details is not valid JSON: nested too deeply"


def test_brackets_inside_strings_do_not_count():
    note = '[{\\"' * 60  # 180 brackets and an escaped quote, inside one string
    raw = '[{"type": "note", "text": "' + note + '"}]'
    (detail,) = parse_authorization_details(raw, Limits(max_bytes=10_000, max_string_length=1000))
    assert detail["text"] == json.loads('"' + note + '"')
