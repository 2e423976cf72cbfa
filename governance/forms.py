"""Input validation for the representative's phone pages and the staff pages. Nothing here writes."""

from __future__ import annotations

import datetime as dt
import re

from django import forms
from django.utils.translation import gettext_lazy as _

from grids.models import Visit
from grids.validators import MAX_ID
from grids.widgets import QuickSelect

from .models import Request, ServiceDaySetting
from .selectors import RequestFilters

# Before Pillow shrinks it: refuse what a village phone network could not send anyway.
PHOTO_HELP = _("可选，拍照后自动压缩，不超过10MB")
MONTH_RE = re.compile(r"(?P<year>20[0-9]{2})-(?P<month>[0-9]{1,2})", re.ASCII)


class HouseholdChoiceField(forms.ModelChoiceField):
    widget = QuickSelect

    def label_from_instance(self, obj) -> str:
        head = obj.head.masked_name if obj.head_id else ""
        tags = "·".join(obj.tags[:2]) if obj.tags else ""
        return " ".join(part for part in (obj.number, head, tags) if part)


class OptionalCoordinateField(forms.DecimalField):
    """The phone's position, filled in by script into a hidden field: optional, so a garbled or
    out-of-range value is dropped rather than reported (an error on a hidden field is invisible)."""

    def clean(self, value):
        try:
            return super().clean(value)
        except forms.ValidationError:
            return None


class VisitForm(forms.Form):
    household = HouseholdChoiceField(
        label=_("农户"),
        queryset=None,
        empty_label=_("请选择农户"),
        error_messages={"required": _("请选择农户"), "invalid_choice": _("请选择自己联系的农户")},
    )
    method = forms.ChoiceField(
        label=_("方式"),
        choices=Visit.Method.choices,
        initial=Visit.Method.IN_PERSON,
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择走访方式")},
    )
    note = forms.CharField(
        label=_("情况记录"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3, "placeholder": _("家里情况、反映的问题……")}),
    )
    photo = forms.ImageField(
        label=_("照片"),
        required=False,
        help_text=PHOTO_HELP,
        error_messages={"invalid_image": _("请上传照片（jpg/png）")},
        widget=forms.ClearableFileInput(attrs={"accept": "image/*", "capture": "environment"}),
    )
    latitude = OptionalCoordinateField(
        required=False,
        max_digits=9,
        decimal_places=6,
        min_value=-90,
        max_value=90,
        widget=forms.HiddenInput,
    )
    longitude = OptionalCoordinateField(
        required=False,
        max_digits=9,
        decimal_places=6,
        min_value=-180,
        max_value=180,
        widget=forms.HiddenInput,
    )

    def __init__(self, *args, households, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["household"].queryset = households


class RequestReportForm(forms.Form):
    household = HouseholdChoiceField(
        label=_("农户"),
        queryset=None,
        empty_label=_("请选择农户"),
        error_messages={"required": _("请选择农户"), "invalid_choice": _("请选择自己联系的农户")},
    )
    kind = forms.ChoiceField(
        label=_("类型"),
        choices=Request.Kind.choices,
        initial=Request.Kind.REQUEST,
        widget=forms.RadioSelect,
    )
    category = forms.ModelChoiceField(
        label=_("类别"), queryset=None, required=False, empty_label=_("（不确定）")
    )
    title = forms.CharField(
        label=_("标题"),
        max_length=100,
        error_messages={"required": _("请填写标题")},
        widget=forms.TextInput(attrs={"placeholder": _("一句话说明，例如：路灯不亮")}),
    )
    description = forms.CharField(
        label=_("具体情况"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    proposed_level = forms.ChoiceField(
        label=_("建议层级"),
        choices=Request.Level.choices,
        initial=Request.Level.GRID,
        widget=forms.RadioSelect,
        help_text=_("小事格内解决；村里的事报村；需要乡镇部门办的报镇"),
    )
    photo = forms.ImageField(
        label=_("照片"),
        required=False,
        help_text=PHOTO_HELP,
        error_messages={"invalid_image": _("请上传照片（jpg/png）")},
        widget=forms.ClearableFileInput(attrs={"accept": "image/*", "capture": "environment"}),
    )
    dispute_parties = forms.CharField(
        label=_("纠纷当事人（矛盾纠纷填写）"), required=False, max_length=200
    )
    mediators = forms.CharField(label=_("调解人"), required=False, max_length=200)
    mediation_agreement = forms.CharField(
        label=_("调解协议（已调解成功时填写）"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, households, categories, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["household"].queryset = households
        self.fields["category"].queryset = categories

    def clean(self):
        data = super().clean()
        if data.get("kind") == Request.Kind.DISPUTE and not data.get("dispute_parties", "").strip():
            self.add_error("dispute_parties", _("矛盾纠纷请填写当事人"))
        return data


class NoteForm(forms.Form):
    note = forms.CharField(
        label=_("说明"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("请填写说明")},
    )

    def __init__(self, *args, label=None, required=True, **kwargs):
        super().__init__(*args, **kwargs)
        if label:
            self.fields["note"].label = label
            self.fields["note"].error_messages["required"] = _("请填写%(label)s") % {"label": label}
        self.fields["note"].required = required


class ResolveForm(NoteForm):
    mediation_agreement = forms.CharField(
        label=_("调解协议（矛盾纠纷）"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class ReturnVisitForm(forms.Form):
    satisfaction = forms.ChoiceField(
        label=_("群众满意度"),
        choices=Request.Satisfaction.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择满意度")},
    )
    note = forms.CharField(
        label=_("回访情况"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class TriageForm(forms.Form):
    level = forms.ChoiceField(
        label=_("办理层级"),
        choices=Request.Level.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("请选择办理层级")},
    )
    department = forms.ModelChoiceField(
        label=_("承办部门（政事）"),
        queryset=None,
        required=False,
        empty_label=_("—"),
        widget=QuickSelect,
    )
    handler = forms.ModelChoiceField(
        label=_("村经办人（村事）"),
        queryset=None,
        required=False,
        empty_label=_("—"),
        widget=QuickSelect,
    )
    catalogue_item = forms.ModelChoiceField(
        label=_("对应清单事项（村事）"),
        queryset=None,
        required=False,
        empty_label=_("—"),
        widget=QuickSelect,
    )
    category = forms.ModelChoiceField(
        label=_("类别"),
        queryset=None,
        required=False,
        empty_label=_("（不改）"),
        widget=QuickSelect,
    )
    note = forms.CharField(
        label=_("分流意见"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, departments, handlers, catalogue, categories, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["department"].queryset = departments
        self.fields["handler"].queryset = handlers
        self.fields["catalogue_item"].queryset = catalogue
        self.fields["category"].queryset = categories

    def clean(self):
        data = super().clean()
        if data.get("level") == Request.Level.TOWNSHIP and not data.get("department"):
            self.add_error("department", _("政事必须指定承办部门"))
        return data


class DuplicateForm(forms.Form):
    original = forms.IntegerField(
        label=_("原诉求编号"),
        min_value=1,
        max_value=MAX_ID,
        error_messages={"required": _("请填写原诉求编号")},
    )
    note = forms.CharField(label=_("说明"), required=False, max_length=500)


class MeetingLinkForm(forms.Form):
    meeting = forms.IntegerField(
        label=_("会议编号"),
        min_value=1,
        max_value=MAX_ID,
        error_messages={"required": _("请填写会议编号")},
        help_text=_("会议页面地址中的数字，例如 /meetings/12/ 中的 12"),
    )


class NoticeForm(forms.Form):
    title = forms.CharField(
        label=_("标题"), max_length=100, error_messages={"required": _("请填写标题")}
    )
    body = forms.CharField(
        label=_("内容"),
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={"required": _("请填写内容")},
    )
    village = forms.ModelChoiceField(
        label=_("发给"), queryset=None, required=False, empty_label=_("全镇")
    )

    def __init__(self, *args, villages, allow_township: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["village"].queryset = villages
        if not allow_township:
            self.fields["village"].required = True
            self.fields["village"].empty_label = None


class RequestFilterForm(forms.Form):
    village = forms.ModelChoiceField(
        label=_("村"), queryset=None, required=False, empty_label=_("全部村"), widget=QuickSelect
    )
    grid = forms.ModelChoiceField(
        label=_("网格"),
        queryset=None,
        required=False,
        empty_label=_("全部网格"),
        widget=QuickSelect,
    )
    status = forms.ChoiceField(
        label=_("状态"),
        required=False,
        choices=[("", _("全部状态")), *Request.Status.choices],
        widget=QuickSelect,
    )
    level = forms.ChoiceField(
        label=_("层级"),
        required=False,
        choices=[("", _("全部层级")), *Request.Level.choices],
        widget=QuickSelect,
    )
    category = forms.ModelChoiceField(
        label=_("类别"),
        queryset=None,
        required=False,
        empty_label=_("全部类别"),
        widget=QuickSelect,
    )
    kind = forms.ChoiceField(
        label=_("类型"),
        required=False,
        choices=[("", _("全部类型")), *Request.Kind.choices],
        widget=QuickSelect,
    )
    overdue = forms.BooleanField(label=_("只看超期"), required=False)
    q = forms.CharField(label=_("搜索"), required=False, max_length=50)

    def __init__(self, *args, villages, grids, categories, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["village"].queryset = villages
        self.fields["grid"].queryset = grids
        self.fields["category"].queryset = categories

    def filters(self) -> RequestFilters:
        if not self.is_valid():
            return RequestFilters()
        data = self.cleaned_data
        return RequestFilters(
            village_id=data["village"].pk if data.get("village") else None,
            grid_id=data["grid"].pk if data.get("grid") else None,
            status=data.get("status") or "",
            level=data.get("level") or "",
            category_id=data["category"].pk if data.get("category") else None,
            kind=data.get("kind") or "",
            overdue=bool(data.get("overdue")),
            search=data.get("q") or "",
        )


class WorkListForm(forms.Form):
    village = forms.ModelChoiceField(label=_("村"), queryset=None, empty_label=None)
    month = forms.CharField(
        label=_("月份"),
        widget=forms.TextInput(attrs={"type": "month", "placeholder": "2026-11"}),
        error_messages={"required": _("请选择月份")},
    )

    def __init__(self, *args, villages, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["village"].queryset = villages

    def clean_month(self):
        value = self.cleaned_data["month"].strip()
        # ASCII digits only: int() accepts "２０２６" and dt.date() overflows on a huge year.
        match = MONTH_RE.fullmatch(value)
        if match is None or not 1 <= int(match["month"]) <= 12:
            raise forms.ValidationError(_("月份格式应为 2026-11"))
        return dt.date(int(match["year"]), int(match["month"]), 1)


class CatalogueChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.code} {obj.title}"


class WorkListItemForm(forms.Form):
    """One row of the month's list. A row left empty is skipped; with a catalogue, a row cites it
    (the title may then be left empty: the catalogue item's own title is used)."""

    title = forms.CharField(label=_("事项"), max_length=200, required=False)
    catalogue_item = CatalogueChoiceField(
        label=_("清单依据"), queryset=None, required=False, empty_label=_("—")
    )
    per_household = forms.BooleanField(label=_("按户勾选"), required=False, initial=True)

    def __init__(self, *args, catalogue, choices=None, require_citation: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["catalogue_item"].queryset = catalogue
        if choices is not None:
            # Drawn from a list read once; a posted value is still checked against the queryset.
            self.fields["catalogue_item"].widget.choices = choices
        self.require_citation = require_citation
        if require_citation:
            self.fields["catalogue_item"].label = _("清单依据（必选）")

    def clean(self):
        data = super().clean()
        title = (data.get("title") or "").strip()
        item = data.get("catalogue_item")
        if title and item is None and self.require_citation:
            self.add_error("catalogue_item", _("请选择这一项对应的“三个清单”事项"))
        if not title and item is not None:
            data["title"] = item.title
        return data


WorkListItemFormSet = forms.formset_factory(WorkListItemForm, extra=5, max_num=30)


class ServiceDayForm(forms.Form):
    """邻里服务日: each month's n-th weekday (every month has four of each)."""

    week = forms.TypedChoiceField(
        label=_("每月"), choices=ServiceDaySetting.Week.choices, coerce=int, initial=1
    )
    weekday = forms.TypedChoiceField(
        label=_("星期"), choices=ServiceDaySetting.Weekday.choices, coerce=int, initial=0
    )


DAY_RE = re.compile(r"(?P<year>20[0-9]{2})-(?P<month>[0-9]{2})-(?P<day>[0-9]{2})", re.ASCII)


def parse_day(value: str) -> dt.date | None:
    """A date from a query string (2026-11-02), or None: ASCII digits only, a real date."""
    match = DAY_RE.fullmatch((value or "").strip())
    if match is None:
        return None
    try:
        return dt.date(int(match["year"]), int(match["month"]), int(match["day"]))
    except ValueError:
        return None
