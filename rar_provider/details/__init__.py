"""Pure checks and helpers for ``authorization_details`` (RFC 9396).

No Django request, no oauthlib, no database: parsing and limits (§2, §5,
§12), the common fields (§2.2), per-type JSON Schema validation (§2, §5),
the subset comparison used for narrowing and consent reuse (§6) and
presentation rows for the consent page (§3).
"""

from __future__ import annotations

from .common_fields import STRING_ARRAY_FIELDS, STRING_FIELDS, check_common_fields
from .compare import (
    ARRAY_COMMON_FIELDS,
    Comparator,
    covering_entries,
    detail_is_covered,
    details_are_covered,
    json_equal,
    uncovered_index,
)
from .limits import Limits, check_limits
from .parse import parse_authorization_details
from .present import Row, format_amount, humanize_key, is_amount, present_detail
from .schema import check_schema_is_valid, validate_against_schema

__all__ = [
    "ARRAY_COMMON_FIELDS",
    "STRING_ARRAY_FIELDS",
    "STRING_FIELDS",
    "Comparator",
    "Limits",
    "Row",
    "check_common_fields",
    "check_limits",
    "check_schema_is_valid",
    "detail_is_covered",
    "covering_entries",
    "details_are_covered",
    "format_amount",
    "humanize_key",
    "is_amount",
    "json_equal",
    "parse_authorization_details",
    "present_detail",
    "uncovered_index",
    "validate_against_schema",
]
