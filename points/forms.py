"""Input validation for the points pages; nothing here writes."""

from __future__ import annotations

import datetime as dt
import re

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grids.validators import parse_id

from .models import PointsRule

MAX_QUANTITY = 99
# Dates and years the pages accept: wide enough for any real deed or report, narrow enough that
# "end + 1 day" and period arithmetic never leave Python's date range (9999-12-31 + 1 overflows).
FIRST_DATE = dt.date(2000, 1, 1)
LAST_DATE = dt.date(2100, 12, 31)


class AsciiIntegerField(forms.IntegerField):
    """ASCII digits only: ``int()`` also reads '٣' and fails on '²', which ``isdigit()`` passes."""

    def to_python(self, value):
        text = str(value if value is not None else "").strip()
        if text and not (text.isascii() and text.removeprefix("-").isdigit()):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


class BoundedDateField(forms.DateField):
    def to_python(self, value):
        day = super().to_python(value)
        if day is not None and not FIRST_DATE <= day <= LAST_DATE:
            raise forms.ValidationError(
                _("日期应在%(first)s至%(last)s之间")
                % {"first": FIRST_DATE.isoformat(), "last": LAST_DATE.isoformat()},
                code="out_of_range",
            )
        return day


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class RuleChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: PointsRule) -> str:
        review = _("（需会议审议）") if obj.needs_review else ""
        return f"{obj.category.name} · {obj.name} {obj.points:+d}{review}"


class ClaimForm(forms.Form):
    rule = RuleChoiceField(label=_("积分事项"), queryset=PointsRule.objects.none())
    resident = forms.ModelChoiceField(
        label=_("村民（以人计分的事项必选）"), queryset=None, required=False
    )
    occurred_on = BoundedDateField(label=_("事迹日期"), widget=DateInput())
    note = forms.CharField(
        label=_("说明"), max_length=300, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    evidence = forms.ImageField(label=_("照片（可选）"), required=False)

    def __init__(self, *args, rules, residents, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rule"].queryset = rules
        self.fields["resident"].queryset = residents
        self.fields["occurred_on"].initial = timezone.localdate()

    def clean_occurred_on(self) -> dt.date:
        day = self.cleaned_data["occurred_on"]
        if day > timezone.localdate():
            raise forms.ValidationError(_("事迹日期不能晚于今天"))
        return day


class RecentChoiceIterator(forms.models.ModelChoiceIterator):
    """Lists only the first ``field.shown`` rows; the field still validates against them all."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset[: self.field.shown]:
            yield self.choice(obj)

    def __len__(self) -> int:
        empty = 1 if self.field.empty_label is not None else 0
        return empty + min(self.queryset.count(), self.field.shown)


class MeetingChoiceField(forms.ModelChoiceField):
    """The held meeting that decided; the newest ``shown`` are offered, any held one validates.

    The queryset must stay unsliced: ModelChoiceField validates with ``queryset.get()``,
    which a sliced queryset refuses (and the form would then call every choice invalid).
    """

    iterator = RecentChoiceIterator
    shown = 50

    def label_from_instance(self, obj) -> str:
        held = timezone.localtime(obj.held_at).date().isoformat() if obj.held_at else ""
        return f"{obj.title}（{held}）" if held else obj.title


class ApproveForm(forms.Form):
    meeting = MeetingChoiceField(
        label=_("作出决定的会议"), queryset=None, required=False, empty_label=_("（不需要）")
    )

    def __init__(self, *args, meetings, needs_review: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["meeting"].queryset = meetings
        self.fields["meeting"].required = needs_review
        if needs_review:
            self.fields["meeting"].empty_label = None


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("驳回理由"), max_length=300, widget=forms.Textarea(attrs={"rows": 2})
    )

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError(_("驳回时请填写理由"))
        return reason


class HouseholdsField(forms.ModelMultipleChoiceField):
    """Ticked households; an id that is not a database-sized integer is refused, not queried."""

    def _check_values(self, value):
        for pk in value or ():
            text = str(pk).strip()
            if parse_id(text) is None:
                raise forms.ValidationError(
                    self.error_messages["invalid_pk_value"], code="invalid_pk_value"
                )
        return super()._check_values(value)


class BulkAwardForm(forms.Form):
    rule = RuleChoiceField(label=_("积分事项"), queryset=PointsRule.objects.none())
    occurred_on = BoundedDateField(label=_("日期"), widget=DateInput())
    households = HouseholdsField(
        label=_("农户"),
        queryset=None,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"invalid_pk_value": _("所选农户无效")},
    )
    note = forms.CharField(label=_("说明"), max_length=300, required=False)

    def __init__(self, *args, rules, households, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rule"].queryset = rules.filter(needs_review=False, subject="household")
        self.fields["households"].queryset = households
        self.fields["households"].label_from_instance = lambda h: (
            f"{h.number} {h.head.name if h.head else ''}".strip()
        )
        self.fields["occurred_on"].initial = timezone.localdate()


class CounterForm(forms.Form):
    """One quantity box per product on the shelf; fields are named ``qty_<product id>``."""

    def __init__(self, *args, products, **kwargs):
        super().__init__(*args, **kwargs)
        self.products = list(products)
        for product in self.products:
            self.fields[f"qty_{product.pk}"] = forms.IntegerField(
                label=_("%(name)s（%(price)d分，库存%(stock)d）")
                % {"name": product.name, "price": product.points_price, "stock": product.stock},
                min_value=0,
                max_value=MAX_QUANTITY,
                required=False,
                initial=0,
                widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
            )

    def clean(self):
        cleaned = super().clean()
        if not self.quantities():
            raise forms.ValidationError(_("请至少选择一件商品"))
        return cleaned

    def quantities(self) -> dict[int, int]:
        return {
            product.pk: self.cleaned_data.get(f"qty_{product.pk}") or 0
            for product in self.products
            if self.cleaned_data.get(f"qty_{product.pk}")
        }


class PublicCodeForm(forms.Form):
    code = forms.CharField(
        label=_("户码（存折上的12位查询码）"),
        max_length=16,
        widget=forms.TextInput(attrs={"autocapitalize": "characters", "autocomplete": "off"}),
    )

    def clean_code(self) -> str:
        # Printed codes are letters and digits; spaces and dashes are how people copy them out.
        code = re.sub(r"[\s-]+", "", self.cleaned_data["code"]).upper()
        if not re.fullmatch(r"[A-Z0-9]+", code, flags=re.ASCII):
            raise forms.ValidationError(_("户码只有字母和数字，请对照存折上的查询码重新输入"))
        return code


class ReportPeriodForm(forms.Form):
    start = BoundedDateField(label=_("开始日期"), widget=DateInput())
    end = BoundedDateField(label=_("结束日期"), widget=DateInput())

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("start") and cleaned.get("end") and cleaned["start"] > cleaned["end"]:
            raise forms.ValidationError(_("开始日期不能晚于结束日期"))
        return cleaned


class HonourForm(forms.Form):
    """A staff award: always with the held meeting that decided it (DESIGN: honours are awarded
    by staff with the meeting's decision; a points threshold only proposes candidates)."""

    household = forms.ModelChoiceField(label=_("农户"), queryset=None)
    title = forms.ChoiceField(label=_("称号"))
    year = AsciiIntegerField(label=_("年度"), min_value=2000, max_value=2100)
    meeting = MeetingChoiceField(label=_("作出决定的会议"), queryset=None, empty_label=None)
    note = forms.CharField(label=_("事迹"), max_length=300, required=False)

    def __init__(self, *args, households, meetings, titles, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["household"].queryset = households
        self.fields["household"].label_from_instance = lambda h: (
            f"{h.number} {h.head.name if h.head else ''}".strip()
        )
        self.fields["title"].choices = [(t, t) for t in titles]
        self.fields["meeting"].queryset = meetings
        self.fields["meeting"].error_messages["required"] = _(
            "请选择作出决定的会议（本村已召开的会议）"
        )
        self.fields["year"].initial = timezone.localdate().year


class HonourFilterForm(forms.Form):
    """The honours page's query string: which year, and the candidates' points threshold."""

    DEFAULT_THRESHOLD = 200

    year = AsciiIntegerField(label=_("年度"), min_value=2000, max_value=2100, required=False)
    threshold = AsciiIntegerField(
        label=_("积分门槛"), min_value=0, max_value=999_999, required=False
    )

    def values(self) -> tuple[int, int]:
        """(year, threshold): the valid ones given, else this year and the default threshold."""
        data = self.cleaned_data if self.is_valid() else {}
        return (
            data.get("year") or timezone.localdate().year,
            data.get("threshold") if data.get("threshold") is not None else self.DEFAULT_THRESHOLD,
        )
