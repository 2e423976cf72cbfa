"""身份证号 and 手机号 stay out of public pages, error pages, exports for roles that may not see
them, log output and audit records; exporting personal data leaves an audit record itself."""

from __future__ import annotations

import io
import logging
import re

import pytest
from django.core.exceptions import ValidationError
from django.test import RequestFactory
from django.urls import reverse
from django.views import defaults
from openpyxl import load_workbook

from grids import services as grid_services
from grids.models import AuditEntry
from grids.pii_logging import RedactPersonalInformation
from tests.security.matrix_table import TABLE
from tests.security.world import PHONE_OF_HEAD

PHONE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")
ID_NUMBER = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9])")


def assert_no_pii(text: str, world) -> None:
    head = world.obj.head
    assert head.phone not in text and head.id_number not in text
    assert not PHONE.search(text), PHONE.search(text)
    assert not ID_NUMBER.search(text), ID_NUMBER.search(text)


PUBLIC = sorted(name for name, entry in TABLE.items() if entry.public and not entry.post_only)


@pytest.mark.parametrize("name", PUBLIC)
def test_public_pages_show_no_phone_or_id_number(name, world, client_for):
    response = client_for("anonymous").get(reverse(name, kwargs=TABLE[name].kwargs(world.obj)))
    assert response.status_code == 200
    assert_no_pii(response.content.decode(), world)


def test_public_passbook_lookup_by_code_shows_masked_head_only(world, client_for):
    """The resident-lookup role: anonymous with a valid public code."""
    o = world.obj
    body = (
        client_for("anonymous")
        .get(reverse("points:public_passbook", args=[o.household.public_code]))
        .content.decode()
    )
    assert "张三明" not in body
    assert_no_pii(body, world)


def test_404_page_is_chinese_and_does_not_echo_the_path(world, client_for):
    response = client_for("anonymous").get(f"/nowhere/{PHONE_OF_HEAD}/")
    assert response.status_code == 404
    body = response.content.decode()
    assert "页面不存在" in body
    assert_no_pii(body, world)


def test_out_of_scope_404_shows_nothing_of_the_object(world, client_for):
    o = world.obj
    response = client_for("clerk_y").get(reverse("grids:household_detail", args=[o.household.pk]))
    body = response.content.decode()
    assert response.status_code == 404 and "页面不存在" in body
    assert o.household.number not in body and o.head.name not in body
    assert_no_pii(body, world)


def test_403_page_is_chinese_and_plain(world, client_for):
    response = client_for("rep_b").get(reverse("grids:household_list"))
    assert response.status_code == 403
    body = response.content.decode()
    assert "无权访问" in body and "Forbidden" not in body


def test_500_page_is_chinese_and_needs_no_context(world):
    response = defaults.server_error(RequestFactory().get(f"/x/{PHONE_OF_HEAD}"))
    body = response.content.decode()
    assert response.status_code == 500 and "系统出错了" in body
    assert_no_pii(body, world)


def test_unhandled_error_in_a_view_gives_the_plain_500_page(world, client_for, monkeypatch):
    from grids import views

    def broken(**kwargs):
        raise ValidationError(f"手机号{PHONE_OF_HEAD}已被其他账号使用")

    monkeypatch.setattr(views.selectors, "household_list", broken)
    client = client_for("rep_a")
    client.raise_request_exception = False
    response = client.get(reverse("grids:my_households"))
    assert response.status_code == 500
    assert "系统出错了" in response.content.decode()
    assert_no_pii(response.content.decode(), world)


@pytest.fixture
def console_output():
    """Swap the stream of the configured console handler (the one with the PII filter)."""
    handlers = [
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, RedactPersonalInformation) for f in h.filters)
    ]
    assert handlers, "the console log handler lost its PII filter"
    buffer = io.StringIO()
    old = [h.setStream(buffer) for h in handlers]
    yield buffer
    for handler, stream in zip(handlers, old, strict=True):
        handler.setStream(stream)


def test_logs_of_a_failing_request_have_no_phone(world, client_for, monkeypatch, console_output):
    from grids import views

    def broken(**kwargs):
        raise ValidationError(f"手机号{PHONE_OF_HEAD}、身份证号{world.obj.head.id_number}重复")

    monkeypatch.setattr(views.selectors, "household_list", broken)
    client = client_for("rep_a")
    client.raise_request_exception = False
    assert client.get(reverse("grids:my_households")).status_code == 500
    client_for("anonymous").get(f"/p/passbook/{PHONE_OF_HEAD}/")  # logged as "Not Found: …"
    logging.getLogger("grids").warning("联系电话 %s", PHONE_OF_HEAD)
    output = console_output.getvalue()
    assert "Traceback" in output and "ValidationError" in output  # the error was logged…
    assert "139****5678" in output  # …with the number masked
    assert_no_pii(output, world)


def _export(client, fmt):
    response = client.get(reverse("staff:request_export", args=[fmt]))
    assert response.status_code == 200
    if fmt == "csv":
        return response.content.decode("utf-8-sig")
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).worksheets[0]
    return "\n".join(
        " ".join(str(c) for c in row if c is not None) for row in sheet.iter_rows(values_only=True)
    )


@pytest.mark.parametrize("role", ["clerk_x", "township", "superuser"])
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_request_exports_carry_no_phone_or_id_number(role, fmt, world, client_for):
    o = world.obj
    # Free text typed by a representative may carry numbers; the export redacts them.
    type(o.request_grid).objects.filter(pk=o.request_grid.pk).update(
        title=f"户主电话{PHONE_OF_HEAD}", description=f"身份证{o.head.id_number}"
    )
    text = _export(client_for(role), fmt)
    assert o.household.number in text  # the export really has village X's requests
    assert_no_pii(text, world)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_every_export_is_audited_with_who_and_how_many(fmt, world, client_for):
    before = AuditEntry.objects.filter(action="request.export").count()
    client = client_for("township")
    client.get(reverse("staff:request_export", args=[fmt]), {"q": PHONE_OF_HEAD})
    entries = AuditEntry.objects.filter(action="request.export").order_by("-pk")
    assert entries.count() == before + 1
    entry = entries.first()
    assert entry.actor == world.users["township"]
    assert entry.after["format"] == fmt and "rows" in entry.after
    assert PHONE_OF_HEAD not in str(entry.after)


def test_audit_records_keep_pii_masked(world):
    o = world.obj
    clerk = world.users["clerk_x"]
    new_phone = "13700001234"
    grid_services.resident_update(actor=clerk, resident=o.head, phone=new_phone)
    entry = AuditEntry.objects.filter(
        object_type="grids.resident", object_id=str(o.head.pk)
    ).latest("pk")
    text = f"{entry.before} {entry.after} {entry.object_repr}"
    assert "phone" in entry.after
    for value in (new_phone, PHONE_OF_HEAD, o.head.id_number):
        assert value not in text
    assert not PHONE.search(text) and not ID_NUMBER.search(text)


def test_all_audit_records_of_the_data_set_are_free_of_pii(world):
    for entry in AuditEntry.objects.all().iterator():
        text = f"{entry.before} {entry.after} {entry.object_repr}"
        assert not PHONE.search(text), (entry.action, text)
        assert not ID_NUMBER.search(text), (entry.action, text)
