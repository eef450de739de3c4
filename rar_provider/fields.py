"""Model fields of the app.

:class:`OrderedJSONField` keeps JSON as the text it was written as. RFC 9396 §7
and §9 hand ``authorization_details`` back as the client sent them; PostgreSQL's
``jsonb`` (what Django's ``JSONField`` uses there) stores objects with their
members re-sorted (shortest key first), so the token response, introspection,
the JWT and the pages would show another order than the client sent and the
user consented to.
"""

from __future__ import annotations

import json
from typing import Any

from django.db import models

__all__ = ["OrderedJSONField"]


class OrderedJSONField(models.JSONField):
    """A ``JSONField`` stored as ``text`` on every database, so objects keep the order of their members.

    The Python side is ``JSONField``'s (forms, admin display, validation,
    serialization); only the column is text, written with :func:`json.dumps`
    and read with :func:`json.loads`, which keep member order. JSON path
    lookups (``field__key``, ``contains``, ``has_key``) are not offered: the
    database sees text, not JSON.
    """

    def get_internal_type(self) -> str:
        return "TextField"

    def get_db_prep_value(self, value: Any, connection, prepared: bool = False) -> Any:
        if not prepared:
            value = self.get_prep_value(value)
        if value is None or hasattr(value, "as_sql"):
            return value
        return json.dumps(value, cls=self.encoder)

    def get_transform(self, name: str):
        # Only the plain field transforms: JSONField's key transforms would emit JSON SQL on a text column.
        return super(models.JSONField, self).get_transform(name)

    def get_lookup(self, lookup_name: str):
        if lookup_name in ("exact", "in", "isnull"):
            return super(models.JSONField, self).get_lookup(lookup_name)
        return None
