"""Input validation for the deliberation pages. Nothing here writes."""

from __future__ import annotations

import datetime as dt
import re

from crispy_forms.helper import FormHelper
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import BodyKind, Choice, MajorityBase, Meeting, Membership, RuleReview

ARTICLE_TITLE = re.compile(r"^【(?P<title>[^】]{1,100})】\s*(?P<text>.*)$")


class _CrispyForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.form_tag = False


# Dates typed on a phone stay within these years: year 1 or 9999 would overflow the conversion
# to UTC or make no sense for a meeting, a vote or a signature.
FIRST_YEAR, LAST_YEAR = 2000, 2100


def _check_year(value):
    if value is not None and not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise forms.ValidationError(
            _("请填写%(first)d年至%(last)d年之间的日期") % {"first": FIRST_YEAR, "last": LAST_YEAR}
        )


class BoundedDateTimeField(forms.DateTimeField):
    """A ``datetime-local`` input, within FIRST_YEAR..LAST_YEAR."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", DateTimeLocalInput())
        kwargs.setdefault("input_formats", ["%Y-%m-%dT%H:%M"])
        super().__init__(**kwargs)

    def to_python(self, value):
        # Check the naive value: making year 1 aware in Asia/Shanghai cannot be stored.
        if isinstance(value, str) and value.strip():
            for fmt in self.input_formats:
                try:
                    _check_year(dt.datetime.strptime(value.strip(), fmt))
                except ValueError:
                    continue
        return super().to_python(value)


class BoundedDateField(forms.DateField):
    """A ``date`` input, within FIRST_YEAR..LAST_YEAR."""

    def __init__(self, **kwargs):
        kwargs.setdefault("widget", DateInput())
        super().__init__(**kwargs)

    def to_python(self, value):
        value = super().to_python(value)
        _check_year(value)
        return value


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


class MeetingForm(_CrispyForm):
    village = forms.ModelChoiceField(queryset=None, label=_("村"))
    kind = forms.ChoiceField(choices=Meeting.Kind.choices, label=_("会议形式"))
    body = forms.ModelChoiceField(
        queryset=None, required=False, label=_("议事机构"), help_text=_("屋场会、院坝会可不选")
    )
    title = forms.CharField(max_length=100, label=_("会议名称"))
    venue = forms.ChoiceField(choices=Meeting.Venue.choices, label=_("地点类型"))
    venue_name = forms.CharField(
        max_length=100, required=False, label=_("地点名称"), help_text=_("如：刘家屋场")
    )
    scheduled_at = BoundedDateTimeField(label=_("召开时间"))
    urgent = forms.BooleanField(
        required=False, label=_("紧急会议"), help_text=_("村民会议须提前十天通知，紧急情况除外")
    )
    notice_text = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label=_("会议通知"))
    agenda = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        label=_("议题"),
        help_text=_("每行一个议题"),
    )

    def __init__(self, *args, villages, bodies, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["village"].queryset = villages
        self.fields["body"].queryset = bodies
        if villages.count() == 1:
            self.fields["village"].initial = villages.first()

    def clean(self):
        data = super().clean()
        body, village = data.get("body"), data.get("village")
        if body is not None and village is not None and body.village_id != village.pk:
            self.add_error("body", _("议事机构不属于所选的村"))
        if data.get("venue") == Meeting.Venue.WUCHANG and not data.get("venue_name", "").strip():
            self.add_error("venue_name", _("请填写屋场名称"))
        return data

    @property
    def agenda_lines(self) -> list[str]:
        return [line.strip() for line in self.cleaned_data.get("agenda", "").splitlines()]


class ConcludeForm(_CrispyForm):
    minutes = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), label=_("会议记录"))
    resolutions = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, label=_("会议决议")
    )


class PhotoForm(_CrispyForm):
    photo = forms.ImageField(label=_("会议照片"))
    caption = forms.CharField(max_length=100, required=False, label=_("说明"))


class CancelForm(_CrispyForm):
    reason = forms.CharField(max_length=200, label=_("取消原因"))


class BodyRulesForm(_CrispyForm):
    quorum_numerator = forms.IntegerField(
        min_value=1, max_value=99, initial=1, label=_("法定人数(分子)")
    )
    quorum_denominator = forms.IntegerField(
        min_value=1, max_value=99, initial=2, label=_("法定人数(分母)"), help_text=_("如 1/2、2/3")
    )
    quorum_strict = forms.BooleanField(
        required=False, initial=True, label=_("到会成员须超过该比例（不勾选则达到即可）")
    )
    majority_numerator = forms.IntegerField(
        min_value=1, max_value=99, initial=1, label=_("通过比例(分子)")
    )
    majority_denominator = forms.IntegerField(
        min_value=1, max_value=99, initial=2, label=_("通过比例(分母)")
    )
    majority_strict = forms.BooleanField(
        required=False, initial=True, label=_("赞成票须超过该比例（不勾选则达到即可）")
    )
    majority_base = forms.ChoiceField(
        choices=MajorityBase.choices, initial=MajorityBase.CAST, label=_("通过比例的基数")
    )

    def clean(self):
        data = super().clean()
        for field in ("quorum", "majority"):
            numerator, denominator = (
                data.get(f"{field}_numerator"),
                data.get(f"{field}_denominator"),
            )
            if numerator and denominator and numerator > denominator:
                self.add_error(f"{field}_numerator", _("分子不能大于分母"))
        return data


class BodyForm(BodyRulesForm):
    village = forms.ModelChoiceField(queryset=None, label=_("村"))
    kind = forms.ChoiceField(
        choices=[
            (k.value, k.label)
            for k in BodyKind
            if k not in (BodyKind.VILLAGERS_ASSEMBLY, BodyKind.REPRESENTATIVES_ASSEMBLY)
        ],
        label=_("类别"),
    )
    name = forms.CharField(max_length=60, label=_("名称"))
    grid = forms.ModelChoiceField(
        queryset=None, required=False, label=_("网格"), help_text=_("协商议事团须选择网格")
    )
    field_order = ["village", "kind", "name", "grid"]

    def __init__(self, *args, villages, grids, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["village"].queryset = villages
        self.fields["grid"].queryset = grids
        self.order_fields(self.field_order)


class MemberForm(_CrispyForm):
    resident = forms.ModelChoiceField(queryset=None, label=_("村民"))
    role = forms.ChoiceField(
        choices=Membership.Role.choices, initial=Membership.Role.MEMBER, label=_("职务")
    )

    def __init__(self, *args, residents, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["resident"].queryset = residents
        self.fields["resident"].label_from_instance = lambda r: f"{r.name}（{r.household.number}）"


class AgendaItemForm(_CrispyForm):
    title = forms.CharField(max_length=200, label=_("议题"))
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, label=_("说明")
    )


class MembershipEndForm(_CrispyForm):
    membership = forms.ModelChoiceField(queryset=None, label=_("退出的成员"))
    left_on = BoundedDateField(label=_("退出日期"), initial=timezone.localdate)

    def __init__(self, *args, memberships, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["membership"].queryset = memberships
        self.fields["membership"].label_from_instance = lambda m: (
            f"{m.resident.name}（{m.get_role_display()}，{m.joined_on:%Y-%m-%d}加入）"
        )


class MotionForm(_CrispyForm):
    title = forms.CharField(max_length=200, label=_("表决事项"))
    text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, label=_("内容")
    )
    electorate = forms.ChoiceField(
        choices=[("attendees", _("到会人员")), ("members", _("机构成员"))],
        label=_("表决人"),
        help_text=_("村民会议由到会人员表决，村民代表会议由到会代表表决"),
    )
    secret = forms.BooleanField(required=False, label=_("无记名投票"))


class BallotForm(_CrispyForm):
    village = forms.ModelChoiceField(queryset=None, label=_("村"))
    grid = forms.ModelChoiceField(
        queryset=None, required=False, label=_("范围(网格)"), help_text=_("不选则为全村各户")
    )
    title = forms.CharField(max_length=200, label=_("表决事项"))
    text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), required=False, label=_("内容")
    )
    opens_at = BoundedDateTimeField(label=_("开始时间"))
    closes_at = BoundedDateTimeField(label=_("截止时间"))
    secret = forms.BooleanField(required=False, label=_("无记名投票"))

    def __init__(self, *args, villages, grids, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["village"].queryset = villages
        self.fields["grid"].queryset = grids

    def clean(self):
        data = super().clean()
        opens, closes = data.get("opens_at"), data.get("closes_at")
        if opens and closes and closes <= opens:
            self.add_error("closes_at", _("截止时间须晚于开始时间"))
        grid, village = data.get("grid"), data.get("village")
        if grid and village and grid.village_id != village.pk:
            self.add_error("grid", _("网格不属于所选的村"))
        return data


class VoteForm(_CrispyForm):
    voter = forms.TypedChoiceField(coerce=int, label=_("表决人"))
    choice = forms.ChoiceField(choices=Choice.choices, widget=forms.RadioSelect, label=_("意见"))

    def __init__(self, *args, voters: list[tuple[int, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["voter"].choices = [("", "—")] + voters


class RuleVersionForm(_CrispyForm):
    village = forms.ModelChoiceField(queryset=None, label=_("村"))
    title = forms.CharField(max_length=100, label=_("标题"), initial=_("村规民约"))
    preamble = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, label=_("序言")
    )
    articles = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 10}),
        label=_("条款"),
        help_text=_(
            "每行一条，按顺序编号；可在行首用【】写条款标题，如：【孝老爱亲】子女应当赡养父母。"
        ),
    )

    def __init__(self, *args, villages, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["village"].queryset = villages
        if villages.count() == 1:
            self.fields["village"].initial = villages.first()

    def clean_articles(self) -> list[tuple[str, str]]:
        parsed = []
        for line in self.cleaned_data["articles"].splitlines():
            line = line.strip()
            if not line:
                continue
            match = ARTICLE_TITLE.match(line)
            parsed.append((match["title"], match["text"]) if match else ("", line))
        if not parsed or any(not text for _title, text in parsed):
            raise forms.ValidationError(_("每条条款都要有条文"))
        return parsed


class ArticleForm(_CrispyForm):
    number = forms.IntegerField(min_value=1, max_value=999, label=_("条号"))
    title = forms.CharField(max_length=100, required=False, label=_("标题"))
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), label=_("条文"))


class ConsultationForm(_CrispyForm):
    until = BoundedDateField(label=_("征求意见截止日期"))

    def clean_until(self):
        until = self.cleaned_data["until"]
        if until < timezone.localdate():
            raise forms.ValidationError(_("征求意见截止日期不能早于今天"))
        return until


class ReviewForm(_CrispyForm):
    decision = forms.ChoiceField(
        choices=RuleReview.Decision.choices, widget=forms.RadioSelect, label=_("审查结论")
    )
    opinion = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        label=_("审查意见"),
        help_text=_("退回修改时必填"),
    )

    def clean(self):
        data = super().clean()
        if (
            data.get("decision") == RuleReview.Decision.RETURN
            and not data.get("opinion", "").strip()
        ):
            self.add_error("opinion", _("退回修改须写明审查意见"))
        return data


class PutToVoteForm(_CrispyForm):
    meeting = forms.ModelChoiceField(
        queryset=None,
        label=_("村民会议"),
        help_text=_("只能提交本村村民会议表决；村民代表会议无权制定或修改村规民约"),
    )
    secret = forms.BooleanField(required=False, label=_("无记名投票"))

    def __init__(self, *args, meetings, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["meeting"].queryset = meetings
        self.fields["meeting"].label_from_instance = lambda m: (
            f"{m.title}（{timezone.localtime(m.scheduled_at):%Y-%m-%d %H:%M}）"
        )


class AdoptForm(_CrispyForm):
    motion = forms.ModelChoiceField(
        queryset=None,
        label=_("村民会议表决"),
        help_text=_("只列出就本版本提交、在审查通过后开始并已结束的村民会议表决"),
    )

    def __init__(self, *args, motions, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["motion"].queryset = motions
        self.fields["motion"].label_from_instance = lambda m: f"{m.meeting.title} · {m.title}"


class InForceForm(_CrispyForm):
    in_force_from = BoundedDateField(label=_("施行日期"), initial=timezone.localdate)


class CommentForm(_CrispyForm):
    article = forms.TypedChoiceField(coerce=int, label=_("条款"))
    author_name = forms.CharField(max_length=50, label=_("您的姓名"))
    text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), max_length=2000, label=_("意见建议")
    )

    def __init__(self, *args, articles, households=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["article"].choices = [(a.pk, str(a)) for a in articles]
        if households is not None:
            # A representative passes on a comment on behalf of one of their households.
            self.fields["household"] = forms.ModelChoiceField(
                queryset=households, label=_("代哪一户转达"), required=True
            )
            self.fields["author_name"].label = _("提出意见的村民")


class CommitmentForm(_CrispyForm):
    signed_on = BoundedDateField(label=_("签署日期"), initial=timezone.localdate)

    def clean_signed_on(self):
        signed_on = self.cleaned_data["signed_on"]
        if signed_on > timezone.localdate():
            raise forms.ValidationError(_("签署日期不能晚于今天"))
        return signed_on
