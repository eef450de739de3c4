"""What the consent page shows for each requested detail (RFC 9396 §3: the user
must understand what is authorized). Pure presentation data; templates escape it."""

from __future__ import annotations

from dataclasses import dataclass

from .details import Row, format_amount, is_amount, present_detail
from .details.instruction import Instruction, is_instruction_shape, present_instruction
from .models import AuthorizationDetailType
from .partials import template_names


@dataclass
class DetailView:
    index: int
    type: str
    label: str
    description: str
    rows: list[Row]
    detail: dict
    templates: list[str]
    instruction: Instruction | None = None

    @property
    def amounts(self) -> dict[str, str]:
        """Top-level ``{amount, currency}`` values, formatted ("2,500.00 USD"), for hand-made partials."""
        return {key: format_amount(value) for key, value in self.detail.items() if is_amount(value)}


def display_settings(registered: AuthorizationDetailType | None) -> tuple[list[str] | None, dict[str, str]]:
    """The operator's ordered top-level fields (None: all) and labels by name or dotted path."""
    if registered is None:
        return None, {}
    chosen = list(registered.display_fields.all())
    labels = {field.field: field.label for field in chosen if field.label}
    ordered = [field.field for field in chosen if "." not in field.field]
    return (ordered or None), labels


def build_detail_view(index: int, detail: dict, registered: AuthorizationDetailType | None) -> DetailView:
    fields, labels = display_settings(registered)
    return DetailView(
        index=index,
        type=detail["type"],
        label=registered.display_label if registered else detail["type"],
        description=registered.description if registered else "",
        rows=present_detail(detail, fields=fields, labels=labels),
        detail=detail,
        templates=template_names(detail, registered.template_name if registered else ""),
        instruction=present_instruction(detail) if is_instruction_shape(detail) else None,
    )


def build_detail_views(details: list[dict], types: dict[str, AuthorizationDetailType]) -> list[DetailView]:
    """One view per requested entry, labelled from its registered type (``types`` by name)."""
    return [
        build_detail_view(index, detail, types.get(detail["type"])) for index, detail in enumerate(details)
    ]
