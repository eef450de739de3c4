"""The common data fields of RFC 9396 §2.2.

``locations``, ``actions``, ``datatypes`` and ``privileges`` are arrays of
strings; ``identifier`` is a string. Each type may use them or not; when an
entry carries one, it must have that shape whatever the type.
"""

from __future__ import annotations

from ..errors import AuthorizationDetailsProblem
from .limits import ROOT, path_join

__all__ = ["STRING_ARRAY_FIELDS", "STRING_FIELDS", "check_common_fields"]

#: RFC 9396 §2.2 common fields whose value is an array of strings.
STRING_ARRAY_FIELDS = ("locations", "actions", "datatypes", "privileges")
#: RFC 9396 §2.2 common fields whose value is a string.
STRING_FIELDS = ("identifier",)


def check_common_fields(details: list[dict]) -> None:
    """RFC 9396 §2.2: check the shape of the common fields present in each entry.

    Raises :class:`~rar_provider.errors.AuthorizationDetailsProblem`, e.g.
    ``authorization_details[0].actions must be an array of strings``.
    """
    for index, detail in enumerate(details):
        where = path_join(ROOT, index)
        for name in STRING_ARRAY_FIELDS:
            if name in detail:
                value = detail[name]
                if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
                    raise AuthorizationDetailsProblem(f"{where}.{name} must be an array of strings")
        for name in STRING_FIELDS:
            if name in detail and not isinstance(detail[name], str):
                raise AuthorizationDetailsProblem(f"{where}.{name} must be a string")
