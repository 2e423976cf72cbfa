"""Tags for public pages of other apps: the village board shows the village's honours."""

from django import template

from points import selectors

register = template.Library()


@register.inclusion_tag("points/partials/board_honours_section.html")
def village_honours(village) -> dict:
    """The honours section of the village board (deliberation's public page)."""
    honours = selectors.public_honours(
        village_id=village.pk, limit=selectors.PUBLIC_BOARD_HONOURS + 1
    )
    return {
        "village": village,
        "honours": honours[: selectors.PUBLIC_BOARD_HONOURS],
        "more": len(honours) > selectors.PUBLIC_BOARD_HONOURS,
    }
