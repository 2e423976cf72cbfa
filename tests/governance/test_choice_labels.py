"""get_FOO_display() through grids.choices.QuickChoiceDisplay: Django's answers, in the active
language, with the choices' dict built once per field."""

from django.utils import translation

from governance.models import Request
from grids.choices import _labels


def test_labels_are_djangos_in_the_active_language():
    for language in ("zh-hans", "en"):
        with translation.override(language):
            for value, label in Request.Status.choices:
                assert Request(status=value).get_status_display() == str(label)
            for value, label in Request.Kind.choices:
                assert Request(kind=value).get_kind_display() == str(label)
    with translation.override("en"):
        assert Request(status="reported").get_status_display() != "已登记"


def test_an_unknown_value_is_shown_as_it_is_and_the_choices_are_read_once():
    assert Request(status="no-such-status").get_status_display() == "no-such-status"
    _labels.cache_clear()
    for _ in range(3):
        Request(status="reported").get_status_display()
    assert _labels.cache_info().misses == 1
