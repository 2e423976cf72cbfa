"""``get_FOO_display()`` without rebuilding the field's choices on every call."""

from __future__ import annotations

from functools import cache

from django.utils.encoding import force_str
from django.utils.hashable import make_hashable


@cache
def _labels(field) -> dict:
    # The labels stay lazy: each call still translates into the active language.
    return dict(make_hashable(field.flatchoices))


class QuickChoiceDisplay:
    """A model mixin: Django's ``get_FOO_display()`` builds a dict of all the field's choices
    for every call, so a page listing 30 requests with four labelled fields each spent more time
    there than in its query. Here the dict is built once per field."""

    def _get_FIELD_display(self, field):
        value = getattr(self, field.attname)
        return force_str(_labels(field).get(make_hashable(value), value), strings_only=True)
