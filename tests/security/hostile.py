"""Hostile input for the property tests, and the check every answer must pass.

An answer is clean when it is a 302 that either wrote exactly what the successful action writes
or nothing at all (then with a Chinese message saying why), or a 200/4xx page that wrote nothing
and, for a form page, shows a Chinese error next to a field. Each example runs in its own
savepoint, rolled back afterwards, so that examples do not depend on each other (hypothesis
replays and shrinks them) and a success does not hide the refusals that would follow it.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterable, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from html.parser import HTMLParser

from django.apps import apps
from django.contrib.messages import get_messages
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

CJK = re.compile(r"[\u4e00-\u9fff]")
ERROR_MARKERS = ("invalid-feedback", "errorlist", "alert-danger", "is-invalid", "text-danger")
LOGIN = "/accounts/login/"
WATCHED_APPS = ("grids", "governance", "points", "deliberation")
STATUS_LIKE = {"status", "withdrawn", "done_at", "approved_at", "decided_at"}

WEIRD = [
    "",
    " ",
    "\x00",
    "\u3000",
    "0001-01-01",
    "9999-12-31",
    "2024-02-30",
    "2024-13-01",
    "0001-01-01T00:00",
    "9999-12-31T23:59",
    "-1",
    "0",
    str(10**20),
    str(-(10**20)),
    "1e309",
    "NaN",
    "Infinity",
    "1.5",
    "²",
    "٣",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "43090319700101001X",  # wrong check character
    "4309031970010100",  # too short
    "430903197002300012",  # 2月30日
    "ＡＢＣ１２３",
    "🙂" * 20,
    "\u202e反转",
    "a" * 100_000,
    "中" * 100_000,
]
NASTY = st.one_of(
    st.sampled_from(WEIRD),
    st.text(max_size=40),
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.lists(st.sampled_from(WEIRD[:12]), min_size=2, max_size=3),
)
# The CI runs the whole suite in well under its 90 minutes with this many examples per form;
# SECURITY_EXAMPLES=500 makes a longer hunt on a workstation.
EXAMPLES = int(os.environ.get("SECURITY_EXAMPLES", "30"))
settings.register_profile(
    "security",
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
FAST = settings(settings.get_profile("security"))


def maybe(valid) -> st.SearchStrategy:
    """The valid value, or something hostile in its place."""
    return st.one_of(st.just(valid), NASTY)


def without_nul(strategy: st.SearchStrategy, *, max_length: int | None = None):
    """For a field whose NUL byte (or, with ``max_length``, an over-long value) is a known,
    pinned failure: the property keeps to the rest."""

    def keeps_clear(value) -> bool:
        for item in value if isinstance(value, list) else [value]:
            text = str(item)
            if "\x00" in text or (max_length is not None and len(text) > max_length):
                return False
        return True

    return strategy.filter(keeps_clear)


def jpeg_bytes(size=(64, 48)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (120, 160, 90)).save(buffer, format="JPEG")
    return buffer.getvalue()


# --- what the database holds --------------------------------------------------------------


def _watched_models():
    for app in WATCHED_APPS:
        yield from apps.get_app_config(app).get_models()


def _rows(model, names) -> list[tuple]:
    return sorted(
        (tuple(map(repr, row)) for row in model.objects.values_list("pk", *names)), key=str
    )


def table_state(watch: Iterable[str] = ()) -> dict:
    """Row counts of every table of our apps (one query), the status-like columns of the models
    that have them, and every column of the models in ``watch`` (labels such as
    ``"deliberation.Body"``) — so that an update is noticed as well as an insert or delete."""
    models = list(_watched_models())
    tables = [connection.ops.quote_name(m._meta.db_table) for m in models]
    sql = "SELECT " + ", ".join(f"(SELECT COUNT(*) FROM {t})" for t in tables)
    with connection.cursor() as cursor:
        cursor.execute(sql)
        counts = cursor.fetchone()
    state = {m._meta.label: n for m, n in zip(models, counts, strict=True)}
    watch = set(watch)
    for model in models:
        names = {f.attname for f in model._meta.concrete_fields} - {"id"}
        if model._meta.label in watch:
            state[model._meta.label + ".all"] = _rows(model, sorted(names))
        watched = {f.name for f in model._meta.concrete_fields} & STATUS_LIKE
        if watched:
            state[model._meta.label + ".rows"] = _rows(model, sorted(watched))
    unknown = watch - {m._meta.label for m in models}
    assert not unknown, f"not a model of our apps: {unknown}"
    return state


@dataclass(frozen=True)
class Effect:
    """What one successful POST writes.

    ``grows``: model label → how many rows it adds (a number, or an inclusive (low, high) range);
    ``changes``: labels whose existing rows (their status columns, or every column when watched)
    may change. Anything else that differs from before is a stray or partial write.
    """

    grows: Mapping[str, int | tuple[int, int]] = field(default_factory=dict)
    changes: frozenset[str] = frozenset()

    def check(self, before: dict, after: dict) -> None:
        for key in sorted(set(before) | set(after)):
            old, new = before.get(key), after.get(key)
            if key.count(".") == 2:  # "app.Model.rows" or "app.Model.all"
                label = key.rsplit(".", 1)[0]
                if old == new or label in self.changes:
                    continue
                assert label in self.grows, f"{key} changed: {_diff(old, new)}"
                assert set(old) <= set(new), f"{key}: existing rows changed: {_diff(old, new)}"
                continue
            low, high = _bounds(self.grows.get(key, 0))
            assert low <= new - old <= high, (
                f"{key}: {new - old:+d} rows, a successful action writes {low}..{high}"
            )


def _bounds(value) -> tuple[int, int]:
    return value if isinstance(value, tuple) else (value, value)


def describe(before: dict, after: dict) -> str:
    """What differs between two states, briefly."""
    parts = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old != new:
            parts.append(
                f"{key} {_diff(old, new)}" if key.count(".") == 2 else f"{key} {old}→{new}"
            )
    return "; ".join(parts)


def _diff(old, new) -> str:
    old, new = set(old or ()), set(new or ())
    return f"gone {sorted(old - new, key=str)[:3]}, new {sorted(new - old, key=str)[:3]}"


NOTHING = Effect()


# --- the answer ----------------------------------------------------------------------------


@contextmanager
def rolled_back():
    """One example: whatever it wrote is undone before the next."""
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def flashed(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def check_answer(
    response,
    before: dict,
    *,
    effect: Effect = NOTHING,
    watch: Iterable[str] = (),
    plain_ok: bool = False,
    silent_ok: bool = False,
) -> None:
    status = response.status_code
    assert status < 500, status
    after = table_state(watch)
    if status in (301, 302, 303):
        location = response.get("Location", "")
        assert not location.startswith(LOGIN), f"sent to the login page: {location}"
        if after != before:
            effect.check(before, after)
        elif not silent_ok:
            # Refused (or nothing to do): the page it goes back to must say so, in Chinese.
            said = flashed(response)
            assert any(CJK.search(m) for m in said), f"a silent redirect: {said}"
        return
    assert status in (200, 400, 403, 404, 405, 413), status
    assert after == before, "an error answer left a partial write: " + describe(before, after)
    if status in (200, 400):
        body = response.content.decode()
        if status == 200 and not plain_ok:
            errors = [m.start() for marker in ERROR_MARKERS for m in re.finditer(marker, body)]
            assert errors, "an error answer without an error next to a field"
            assert any(CJK.search(body[i : i + 400]) for i in errors), "error not in Chinese"
        assert CJK.search(body)


def post_example(
    client,
    url: str,
    data: dict,
    *,
    effect: Effect = NOTHING,
    watch: Iterable[str] = (),
    plain_ok: bool = False,
    silent_ok: bool = False,
    succeeds: bool = False,
    **extra,
):
    """POST one example in its own savepoint and check the answer; returns the response.

    ``silent_ok``: a redirect that wrote nothing needs no message (an idempotent tick such as
    "delivered" that was already recorded).
    ``succeeds``: the data is valid, so the action must be done (a redirect that wrote), which
    shows that the valid values drawn by the property reach the service and that ``effect``
    describes what it writes.
    """
    with rolled_back():
        before = table_state(watch)
        response = client.post(url, data, **extra)
        check_answer(
            response, before, effect=effect, watch=watch, plain_ok=plain_ok, silent_ok=silent_ok
        )
        if succeeds:
            assert response.status_code == 302, (
                f"the valid example was refused ({response.status_code}): "
                + " ".join(flashed(response))
                + _form_errors(response)
            )
            assert table_state(watch) != before, "the valid example wrote nothing"
    return response


def _form_errors(response) -> str:
    errors = []
    for context in response.context or []:
        for value in context.flatten().values() if hasattr(context, "flatten") else []:
            if hasattr(value, "errors") and hasattr(value, "is_bound") and value.errors:
                errors.append(str(dict(value.errors)))
    return " ".join(dict.fromkeys(errors))


def hunt(client, url: str, valid: dict | None, strategy, **check) -> None:
    """Post ``valid`` (which must succeed), then the property's examples, each rolled back.

    ``client`` may be a callable that makes a fresh client per example, for actions that
    change the session itself (a password change cycles the session key).
    """
    fresh = client if callable(client) else lambda: client
    if valid is not None:
        post_example(fresh(), url, valid, succeeds=True, **check)

    @FAST
    @given(strategy)
    def prop(data):
        post_example(fresh(), url, data, **check)

    prop()


def get_example(client, url: str, params: dict, *, audited: bool = False, **extra):
    """GET a page with a hostile query string: never a 500, and no write but, for an export of
    personal data (``audited``), the one record of who exported what."""
    with rolled_back():
        before = table_state()
        response = client.get(url, params, **extra)
        status = response.status_code
        assert status < 500, status
        if audited and status == 200:
            Effect(grows={"grids.AuditEntry": 1}).check(before, table_state())
        else:
            assert table_state() == before, "a GET wrote: " + describe(before, table_state())
        if status in (200, 400):
            if response.get("Content-Type", "").startswith("text/html"):
                assert CJK.search(response.content.decode())
        else:
            assert status in (302, 404), status
    return response


class _FormFields(HTMLParser):
    """name → value of every field a browser would submit from a page's forms, as drawn."""

    def __init__(self):
        super().__init__()
        self.data: dict[str, list[str]] = {}
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in {"submit", "button", "file", "image", "reset"}:
                return
            if kind in {"checkbox", "radio"} and "checked" not in a:
                return
            default = "on" if kind in {"checkbox", "radio"} else ""
            self.data.setdefault(name, []).append(a.get("value", default))
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in a:
            self.data.setdefault(self._select, []).append(a.get("value", ""))
        elif tag == "textarea" and name:
            self._textarea = name
            self.data.setdefault(name, []).append("")

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea][-1] += data


def form_fields(client, url: str) -> dict:
    """What the page's forms would post untouched (admin pages: fields and inline management
    forms), as the start of a valid example."""
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    parser = _FormFields()
    parser.feed(response.content.decode())
    fields = {k: v if len(v) > 1 else v[0] for k, v in parser.data.items()}
    fields.pop("csrfmiddlewaretoken", None)
    return fields
