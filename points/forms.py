"""Input validation for the points pages; nothing here writes."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grids.validators import parse_id

from .models import PointsRule

MAX_QUANTITY = 99


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
    occurred_on = forms.DateField(label=_("事迹日期"), widget=DateInput())
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


class ApproveForm(forms.Form):
    meeting = forms.ModelChoiceField(
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
    occurred_on = forms.DateField(label=_("日期"), widget=DateInput())
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


class ReportPeriodForm(forms.Form):
    start = forms.DateField(label=_("开始日期"), widget=DateInput())
    end = forms.DateField(label=_("结束日期"), widget=DateInput())

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("start") and cleaned.get("end") and cleaned["start"] > cleaned["end"]:
            raise forms.ValidationError(_("开始日期不能晚于结束日期"))
        return cleaned


class HonourForm(forms.Form):
    household = forms.ModelChoiceField(label=_("农户"), queryset=None)
    title = forms.ChoiceField(label=_("称号"))
    year = forms.IntegerField(label=_("年度"), min_value=2000, max_value=2100)
    meeting = forms.ModelChoiceField(
        label=_("作出决定的会议"), queryset=None, required=False, empty_label=_("（无）")
    )
    note = forms.CharField(label=_("事迹"), max_length=300, required=False)

    def __init__(self, *args, households, meetings, titles, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["household"].queryset = households
        self.fields["household"].label_from_instance = lambda h: (
            f"{h.number} {h.head.name if h.head else ''}".strip()
        )
        self.fields["title"].choices = [(t, t) for t in titles]
        self.fields["meeting"].queryset = meetings
        self.fields["year"].initial = timezone.localdate().year
