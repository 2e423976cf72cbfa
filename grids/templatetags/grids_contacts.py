"""包村 / 包片 / 包网格 on staff pages: ``{% my_contacts %}`` and ``{% contacts_for village grid %}``."""

from django import template

from grids import selectors
from grids.access import scope_of

register = template.Library()


@register.inclusion_tag("grids/partials/my_contacts.html", takes_context=True)
def my_contacts(context):
    """我包联的村/网格: the signed-in cadre's own assignments (nothing when they have none)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    return {"assignments": selectors.contact_assignments_of(user=user)}


@register.inclusion_tag("grids/partials/contacts.html", takes_context=True)
def contacts_for(context, village_id=None, grid_id=None):
    """Who answers for this village (or grid), as far as the user may see it."""
    request = context.get("request")
    scope = scope_of(getattr(request, "user", None))
    return {
        "assignments": selectors.contact_assignments_in(
            scope=scope, village_id=village_id, grid_id=grid_id
        )
    }
