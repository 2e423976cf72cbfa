"""Small pieces shared by the /rep/ and /staff/ views."""

from __future__ import annotations

from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.utils.translation import gettext as _

from grids.validators import parse_id


def apply_service_errors(form: forms.Form, exc: ValidationError) -> None:
    """Show a service's ValidationError next to the field it names, else at the top of the form."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc.messages)


def int_param(request: HttpRequest, name: str, *, post: bool = False) -> int | None:
    return parse_id((request.POST if post else request.GET).get(name, ""))


def refusal_reason(exc: PermissionDenied) -> str:
    """The service's own words for a refusal (“只有乡镇工作人员可以督办”), else a plain one."""
    reason = " ".join(str(arg) for arg in exc.args if arg)
    return reason or _("您无权进行这项操作")


def original_context(scope, item, *, detail_url: str) -> dict:
    """For a duplicate: its original, a link to it when the user may open it, and whether the
    回访 form is offered here (feedback given on a duplicate is recorded on the original)."""
    from django.urls import reverse

    from . import selectors
    from .models import Request

    original = item.duplicate_of if item.status == Request.Status.DUPLICATE else None
    if original is None:
        return {"original": None, "original_url": None, "feedback_to_original": False}
    visible = selectors.request_visible(scope=scope, request_id=original.pk)
    return {
        "original": original,
        "original_url": reverse(detail_url, args=[original.pk]) if visible else None,
        "feedback_to_original": original.status == Request.Status.RESOLVED,
    }
