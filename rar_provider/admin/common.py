"""What every admin screen of rar_provider shares: assets, plain help texts, and what deleting ends."""

from __future__ import annotations

import json

from django.contrib import messages
from django.utils.html import escape, format_html
from django.utils.translation import gettext_lazy as _

from .. import lifecycles
from ..admin_widgets import ASSETS


def _short_time(moment) -> str:
    """``2026-11-30 06:05``: a narrow column (lists fit 1280 px), in the current time zone."""
    from django.utils import timezone

    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else "-"


def _pretty_json(value) -> str:
    return format_html("<pre style='white-space:pre-wrap'>{}</pre>", json.dumps(value, indent=2))


class WithAssets:
    """Our admin CSS and JS (``rar_provider/admin/``) on every page of our models: lists that fit, editors."""

    @property
    def media(self):
        return super().media + ASSETS


class PlainHelpText(WithAssets):
    """Help texts are plain text: escaped, so ``rar_provider/details/<type>.html`` shows as written.

    (Django's admin renders ``help_text`` as HTML, which ate ``<type>``.)
    """

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        formfield = super().formfield_for_dbfield(db_field, request, **kwargs)
        if formfield is not None and formfield.help_text:
            formfield.help_text = escape(formfield.help_text)
        return formfield


class EndsWhatIsIssued:
    """Delete confirmation lists the live authorizations the deletion ends; a message says what was ended.

    The ending itself is done by :mod:`.lifecycles`' signal handlers, whatever deletes.
    """

    def get_deleted_objects(self, objs, request):
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        ended = lifecycles.what_deleting_ends(objs)
        if ended:
            heading = _("Live authorizations this ends (revoked and kept for the record, not deleted)")
            deleted = [*deleted, heading, ended.summary()]
        return deleted, model_count, perms_needed, protected

    def delete_model(self, request, obj):
        ended = lifecycles.what_deleting_ends([obj])
        super().delete_model(request, obj)
        self.message_user(request, lifecycles.describe(ended), messages.WARNING if ended else messages.INFO)

    def delete_queryset(self, request, queryset):
        ended = lifecycles.what_deleting_ends(list(queryset))
        super().delete_queryset(request, queryset)
        self.message_user(request, lifecycles.describe(ended), messages.WARNING if ended else messages.INFO)
