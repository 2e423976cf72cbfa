"""Every named URL of the project, read from the URL conf (not a hand list)."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, get_resolver

SKIPPED_NAMES = {"set_language"}


def _walk(patterns, namespace: str | None = None):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace == "admin":
                # The admin is Django's, guarded by is_staff; only its index is checked here.
                yield "admin:index", entry
                continue
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from _walk(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern):
            name = entry.name
            if name is None:
                # Only Django's DEBUG media route is unnamed; nothing else may be.
                yield None, entry
                continue
            yield (f"{namespace}:{name}" if namespace else name), entry


def project_url_names() -> set[str]:
    """Names of every URL pattern, the admin reduced to its index."""
    names = set()
    for name, entry in _walk(get_resolver().url_patterns):
        if name is None:
            if getattr(entry.callback, "__name__", "") == "serve":
                continue
            raise AssertionError(f"unnamed URL pattern {entry.pattern}: give it a name")
        if name in SKIPPED_NAMES:
            continue
        names.add(name)
    return names
