"""Every form class of the project has a hostile-input property test (``@covers``)."""

from __future__ import annotations

import importlib
import pkgutil

import tests.security
from tests.security.form_coverage import COVERED, defined_form_classes


def _load_the_property_tests() -> None:
    for info in pkgutil.iter_modules(tests.security.__path__):
        if info.name.startswith("test_"):
            importlib.import_module(f"tests.security.{info.name}")


def _names(classes) -> list[str]:
    return sorted(f"{c.__module__}.{c.__qualname__}" for c in classes)


def test_every_form_class_has_a_property_test():
    _load_the_property_tests()
    defined = defined_form_classes()
    missing = defined - set(COVERED)
    assert not missing, f"forms without a property test (add @covers on one): {_names(missing)}"


def test_covered_forms_are_forms_of_the_project():
    _load_the_property_tests()
    stale = set(COVERED) - defined_form_classes()
    assert not stale, f"@covers names forms that are not defined in our apps: {_names(stale)}"


def test_a_new_form_without_a_test_would_be_noticed():
    from django import forms

    from deliberation import forms as deliberation_forms

    class UncoveredForm(forms.Form):
        pass

    UncoveredForm.__module__ = deliberation_forms.__name__
    deliberation_forms.UncoveredForm = UncoveredForm
    try:
        assert UncoveredForm in defined_form_classes() - set(COVERED)
    finally:
        del deliberation_forms.UncoveredForm
