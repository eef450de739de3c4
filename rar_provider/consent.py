"""What the consent page shows for each requested detail (RFC 9396 §3: the user
must understand what is authorized). Pure presentation data; templates escape it."""

from __future__ import annotations

from dataclasses import dataclass

from .details import Row, present_detail
from .models import AuthorizationDetailType


@dataclass
class DetailView:
    index: int
    type: str
    label: str
    description: str
    rows: list[Row]
    detail: dict


def build_detail_views(details: list[dict], types: dict[str, AuthorizationDetailType]) -> list[DetailView]:
    """One view per requested entry, labelled from its registered type (``types`` by name)."""
    views = []
    for index, detail in enumerate(details):
        registered = types.get(detail["type"])
        views.append(
            DetailView(
                index=index,
                type=detail["type"],
                label=registered.display_label if registered else detail["type"],
                description=registered.description if registered else "",
                rows=present_detail(detail),
                detail=detail,
            )
        )
    return views
