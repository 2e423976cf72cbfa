"""Which form classes have a property test: ``@covers(SomeForm)`` on the test that posts it.

``test_form_coverage`` compares the set registered here with every form class defined in our
apps, so a new form without a property test fails CI.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from django import forms

APPS = ("grids", "governance", "points", "deliberation")
COVERED: dict[type, list[str]] = {}


def covers(*form_classes: type):
    """Record that the decorated test posts hostile input through these forms."""

    def register(test):
        for form_class in form_classes:
            assert issubclass(form_class, forms.BaseForm), form_class
            COVERED.setdefault(form_class, []).append(f"{test.__module__}::{test.__name__}")
        return test

    return register


def _modules():
    for app in APPS:
        package = importlib.import_module(app)
        yield package
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{app}."):
            if ".migrations" in info.name:
                continue
            yield importlib.import_module(info.name)


def defined_form_classes() -> set[type]:
    """Every concrete Form/ModelForm class defined in a module of our apps (their forms, views,
    admin, …); a leading underscore marks a base class that is never posted itself."""
    found = set()
    for module in _modules():
        for _name, value in inspect.getmembers(module, inspect.isclass):
            if (
                issubclass(value, forms.BaseForm)
                and value.__module__ == module.__name__
                and not value.__name__.startswith("_")
            ):
                found.add(value)
    return found
