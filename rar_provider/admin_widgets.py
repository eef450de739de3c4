"""Form fields and widgets for rar_provider's admin: the JSON Schema editor, the client grant's type list.

Plain Django widgets with a little static CSS and JavaScript (``rar_provider/admin/*``); every
page still works with JavaScript off, and the server repeats each check the script makes.
"""

from __future__ import annotations

import json

from django import forms
from django.utils.translation import gettext_lazy as _

ASSETS = forms.Media(
    css={"all": ["rar_provider/admin/rar_admin.css"]},
    js=["rar_provider/admin/rar_admin.js"],
)


class JSONEditor(forms.Textarea):
    """A monospaced, decently sized textarea that says at once whether its text is valid JSON.

    The message is next to the field (``aria-describedby``, ``aria-live``); the server's own
    validation (e.g. "not a valid JSON Schema") is shown by admin in the same row.
    """

    template_name = "rar_provider/admin/json_editor.html"

    def __init__(self, attrs=None):
        super().__init__(
            {"class": "rar-json-editor", "rows": 24, "cols": 100, "spellcheck": "false", **(attrs or {})}
        )

    @property
    def media(self):
        return ASSETS


class PrettyJSONField(forms.JSONField):
    """``forms.JSONField`` showing the stored value pretty-printed (2 spaces, keys in stored order)."""

    widget = JSONEditor

    def prepare_value(self, value):
        if isinstance(value, forms.fields.InvalidJSONInput):
            return value
        return json.dumps(value, indent=2, ensure_ascii=False, cls=self.encoder)


class TypesOfAPIWidget(forms.CheckboxSelectMultiple):
    """The types a client grant allows, as checkboxes; each carries its API (``data-api``) so the
    page shows only the chosen API's types (``rar_admin.js``)."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        instance = getattr(value, "instance", None)
        if instance is not None:
            option["attrs"]["data-api"] = str(instance.resource_server_id)
        return option

    @property
    def media(self):
        return ASSETS


class TypeChoiceField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj) -> str:
        return _("%(type)s (%(api)s)") % {"type": obj.type, "api": obj.resource_server.name}
