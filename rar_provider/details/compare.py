"""Is one set of authorization details within another? (RFC 9396 §6, §7)

RFC 9396 §6.1: at the token endpoint a client may ask for a subset of the
authorization details it was granted; the authorization server must make sure
the requested ones are covered by the granted ones, and may compare them in a
type-specific way. The same comparison decides whether a user's earlier
consent already covers a new request.

The default comparison is deliberately strict: only the array-valued common
fields of §2.2 (``actions``, ``locations``, ``datatypes``, ``privileges``)
may be narrowed, to a subset; every other field must be identical. A type
that allows other kinds of narrowing (a lower amount, say) registers its own
comparator.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

__all__ = [
    "ARRAY_COMMON_FIELDS",
    "Comparator",
    "covering_entries",
    "detail_is_covered",
    "details_are_covered",
    "json_equal",
    "uncovered_index",
]

#: RFC 9396 §2.2 common fields holding arrays of strings: a request may narrow them to a subset.
ARRAY_COMMON_FIELDS = ("actions", "locations", "datatypes", "privileges")

#: ``comparator(requested, granted) -> bool``: is the requested entry covered by the granted one?
Comparator = Callable[[dict, dict], bool]


def json_equal(a: Any, b: Any) -> bool:
    """Equality of two JSON values, without Python's ``True == 1`` (``1`` and ``1.0`` are equal numbers)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a is b
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(json_equal(a[key], b[key]) for key in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(json_equal, a, b))
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return type(a) is type(b) and a == b


def _is_subset(requested: Any, granted: Any) -> bool:
    """Every item of the requested array is in the granted array (both must be arrays)."""
    if not isinstance(requested, list) or not isinstance(granted, list):
        return False
    return all(any(json_equal(item, have) for have in granted) for item in requested)


def detail_is_covered(requested: dict, granted: dict) -> bool:
    """RFC 9396 §6.1 default comparison: is the ``requested`` entry within the ``granted`` one?

    * ``type`` is the same (compared exactly, RFC 9396 §2);
    * each array common field (:data:`ARRAY_COMMON_FIELDS`) the grant
      carries is present in the request with a subset of the granted values
      (fewer actions is narrowing); one the grant does not carry must not be
      requested either;
    * every other field is in both or in neither, with equal values.

    A field missing from the request while the grant restricts it is *not*
    covered: a resource server may read a missing ``actions`` as "no
    restriction", which would widen the grant.
    """
    if not isinstance(requested, dict) or not isinstance(granted, dict):
        return False
    type_ = requested.get("type")
    if not isinstance(type_, str) or not json_equal(type_, granted.get("type")):
        return False
    for name in ARRAY_COMMON_FIELDS:
        if name in requested or name in granted:
            if name not in requested or name not in granted:
                return False
            if not _is_subset(requested[name], granted[name]):
                return False
    other_requested = requested.keys() - set(ARRAY_COMMON_FIELDS)
    other_granted = granted.keys() - set(ARRAY_COMMON_FIELDS)
    if other_requested != other_granted:
        return False
    return all(json_equal(requested[name], granted[name]) for name in other_requested)


def _covers(requested: Any, have: Any, comparators: Mapping[str, Comparator] | None) -> bool:
    """Does the granted entry ``have`` cover the requested one (same type, then the type's comparison)?"""
    type_ = requested.get("type") if isinstance(requested, dict) else None
    if not isinstance(have, dict) or not json_equal(have.get("type"), type_):
        return False
    compare = detail_is_covered
    if comparators and isinstance(type_, str) and type_ in comparators:
        compare = comparators[type_]
    return compare(requested, have)


def covering_entries(
    requested: list[dict], granted: list[dict], comparators: Mapping[str, Comparator] | None = None
) -> list[int | None]:
    """For each requested entry, the position of the granted entry that covers it — each granted
    entry covering one requested entry at most — or ``None`` where there is none left.

    RFC 9396 §6.1: a narrowed request is a *subset* of the grant, so one approved entry (one
    approved payment) cannot be asked for twice. The pairing is a maximum matching (an entry equal
    to a granted one is paired with it first), so the order of the request does not decide whether
    it is covered. ``comparators``: as for :func:`uncovered_index`.
    """
    candidates = []
    for detail in requested:
        covering = [index for index, have in enumerate(granted) if _covers(detail, have, comparators)]
        equal = [index for index in covering if json_equal(detail, granted[index])]
        candidates.append(equal + [index for index in covering if index not in equal])
    owner: dict[int, int] = {}  # granted position -> requested index

    def pair(wanted: int, seen: set[int]) -> bool:
        for position in candidates[wanted]:
            if position in seen:
                continue
            seen.add(position)
            if position not in owner or pair(owner[position], seen):
                owner[position] = wanted
                return True
        return False

    for wanted in range(len(requested)):
        pair(wanted, set())
    positions: list[int | None] = [None] * len(requested)
    for position, wanted in owner.items():
        positions[wanted] = position
    return positions


def uncovered_index(
    requested: list[dict], granted: list[dict], comparators: Mapping[str, Comparator] | None = None
) -> int | None:
    """The index of the first requested entry no granted entry of its own covers (see
    :func:`covering_entries`: an entry asked for twice is covered once), or ``None`` if all are.

    ``comparators`` maps a type to a comparison replacing :func:`detail_is_covered`
    for that type (RFC 9396 §6.1 allows type-specific comparison); it is only
    ever called with a granted entry of the same type.
    """
    return next(
        (
            index
            for index, position in enumerate(covering_entries(requested, granted, comparators))
            if position is None
        ),
        None,
    )


def details_are_covered(
    requested: list[dict], granted: list[dict], comparators: Mapping[str, Comparator] | None = None
) -> bool:
    """RFC 9396 §6.1: every requested entry is covered by a granted entry of its own.

    An empty request is covered. See :func:`uncovered_index` for ``comparators``.
    """
    return uncovered_index(requested, granted, comparators) is None
