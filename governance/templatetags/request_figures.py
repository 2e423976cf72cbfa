from django import template

from governance.selectors import public_request_figures

register = template.Library()


@register.inclusion_tag("governance/partials/request_figures_table.html")
def village_request_figures(village):
    return {"figures": public_request_figures(village_id=village.pk)}
