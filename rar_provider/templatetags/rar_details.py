"""``{% show_detail item %}``: one authorization detail, in its partial, only if the partial shows it all.

RFC 9396 §3: the user must see what they authorize. The partial picked for a detail
(:mod:`rar_provider.partials`) is rendered, and its text is checked against every value the
detail grants (:mod:`rar_provider.details.completeness`). A partial that leaves a value out — a
hand-made one that shows the amount only for a currency it recognises, say — is replaced by the
generic partial, which shows every value, and a warning naming the template and the missing
paths is logged (logger ``rar_provider.consent``) so the project can mend its partial.
"""

from __future__ import annotations

import logging

from django import template
from django.utils.safestring import SafeString

from ..details import present_detail
from ..details.completeness import missing_values
from ..partials import GENERIC

register = template.Library()
logger = logging.getLogger("rar_provider.consent")


@register.simple_tag(takes_context=True)
def show_detail(context, item) -> SafeString:
    """Render ``item`` (a :class:`rar_provider.consent.DetailView`) with the first partial that shows
    every granted value; the generic partial, with every field, otherwise.

    The context gets ``item`` and ``rows`` (the detail's presentation rows), as partials expect.
    """
    engine = context.template.engine
    with context.push(item=item, rows=item.rows):
        chosen = engine.select_template(item.templates)
        page = chosen.render(context)
        missing = missing_values(item.index, item.detail, page)
        if not missing or chosen.origin.template_name == GENERIC:
            return SafeString(page)
        logger.warning(
            "Partial %s leaves out %s; showing the generic partial instead.",
            chosen.origin.template_name,
            ", ".join(missing),
        )
    with context.push(item=item, rows=present_detail(item.detail)):
        return SafeString(engine.get_template(GENERIC).render(context))
