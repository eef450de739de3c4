"""Which template shows one authorization detail (RFC 9396 §3: the user must understand it).

The consent page and the "Your authorizations" page include one partial per
detail, picked by Django's ``select_template`` from this list, first found wins:

1. the template named on the type in admin (``AuthorizationDetailType.template_name``);
2. ``rar_provider/details/<type>.html`` (a project overrides it in its own templates);
3. ``rar_provider/details/instruction.html`` when the detail has the
   "instruction + properties" shape (see :mod:`.details.instruction`);
4. ``rar_provider/details/generic.html``, which renders any detail.

Only template *names* come from the database, and only names of files on the
template path: nothing stored is ever compiled as template code.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .details.instruction import is_instruction_shape

GENERIC = "rar_provider/details/generic.html"
INSTRUCTION = "rar_provider/details/instruction.html"

_TEMPLATE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_./-]*\.html")
#: A type name usable as a file name (RFC 9396 types may be URIs: those use the other partials).
_FILE_SAFE_TYPE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


def validate_template_name(value: str) -> None:
    """A relative template name ending in ``.html``: letters, digits, ``_ . - /``, no ``..``."""
    if value and (not _TEMPLATE_NAME.fullmatch(value) or ".." in value.split("/")):
        raise ValidationError(
            _("Enter a template name such as myproject/details/transfer.html (no “..”, ending in .html)."),
            code="invalid",
        )


def type_template_name(type_: str) -> str | None:
    """``rar_provider/details/<type>.html``, or None for a type that is not a safe file name."""
    if _FILE_SAFE_TYPE.fullmatch(type_) and ".." not in type_:
        return f"rar_provider/details/{type_}.html"
    return None


def template_names(detail: dict, registered_template: str = "") -> list[str]:
    """The candidates for ``select_template``, most specific first."""
    names = []
    if registered_template:
        names.append(registered_template)
    by_type = type_template_name(str(detail.get("type", "")))
    if by_type:
        names.append(by_type)
    if is_instruction_shape(detail):
        names.append(INSTRUCTION)
    names.append(GENERIC)
    return list(dict.fromkeys(names))
