"""Councils, meetings, motions and votes, and the village rules (村规民约) they adopt.

Results of votes are never stored as typed-in figures: they are computed from Attendance,
Vote / VoteReceipt + BallotTally rows by ``deliberation.outcome``.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from grids.models import Grid, Household, Resident, Village


class BodyKind(models.TextChoices):
    VILLAGERS_ASSEMBLY = "villagers_assembly", _("村民会议")
    REPRESENTATIVES_ASSEMBLY = "representatives_assembly", _("村民代表会议")
    AFFAIRS_COUNCIL = "affairs_council", _("村民议事会")
    MORAL_COUNCIL = "moral_council", _("道德评议会")
    CEREMONY_COUNCIL = "ceremony_council", _("红白理事会")
    ANTI_DRUG_GAMBLING = "anti_drug_gambling", _("禁毒禁赌会")
    OPINION_FORUM = "opinion_forum", _("民情恳谈会")
    COORDINATION = "coordination", _("事务协调会")
    EVALUATION = "evaluation", _("成效评议会")
    GRID_CONSULTATION = "grid_consultation", _("协商议事团")


# 一约四会 plus the two bodies of the Organic Law: one of each per village, created with it.
VILLAGE_STANDARD_KINDS = (
    BodyKind.VILLAGERS_ASSEMBLY,
    BodyKind.REPRESENTATIVES_ASSEMBLY,
    BodyKind.AFFAIRS_COUNCIL,
    BodyKind.MORAL_COUNCIL,
    BodyKind.CEREMONY_COUNCIL,
    BodyKind.ANTI_DRUG_GAMBLING,
)
LEGAL_KINDS = (BodyKind.VILLAGERS_ASSEMBLY, BodyKind.REPRESENTATIVES_ASSEMBLY)


class MajorityBase(models.TextChoices):
    CAST = "cast", _("实际投票数")
    PRESENT = "present", _("到会人数")


class Body(models.Model):
    """A council or assembly of a village (or of one grid: 协商议事团).

    Quorum and majority are fractions stored as integers so the boundaries are exact:
    quorum = present members ≥ (or >) quorum_numerator / quorum_denominator of members.
    The two bodies of the Organic Law ignore these fields; their rules are the law's.
    """

    village = models.ForeignKey(
        Village, on_delete=models.PROTECT, related_name="bodies", verbose_name=_("村")
    )
    grid = models.ForeignKey(
        Grid,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="bodies",
        verbose_name=_("网格"),
    )
    kind = models.CharField(_("类别"), max_length=30, choices=BodyKind.choices)
    name = models.CharField(_("名称"), max_length=60)
    quorum_numerator = models.PositiveSmallIntegerField(_("法定人数(分子)"), default=1)
    quorum_denominator = models.PositiveSmallIntegerField(_("法定人数(分母)"), default=2)
    quorum_strict = models.BooleanField(
        _("法定人数须超过该比例"), default=True, help_text=_("勾选为“超过”，不勾选为“达到”")
    )
    majority_numerator = models.PositiveSmallIntegerField(_("通过比例(分子)"), default=1)
    majority_denominator = models.PositiveSmallIntegerField(_("通过比例(分母)"), default=2)
    majority_strict = models.BooleanField(_("赞成须超过该比例"), default=True)
    majority_base = models.CharField(
        _("通过比例的基数"), max_length=10, choices=MajorityBase.choices, default=MajorityBase.CAST
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("议事机构")
        verbose_name_plural = _("议事机构")
        ordering = ["village", "grid", "kind", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["village", "kind"],
                condition=Q(grid__isnull=True, kind__in=[k.value for k in VILLAGE_STANDARD_KINDS]),
                name="body_standard_kind_once_per_village",
            ),
            models.CheckConstraint(
                condition=Q(quorum_denominator__gte=1)
                & Q(quorum_numerator__lte=models.F("quorum_denominator")),
                name="body_quorum_fraction_valid",
            ),
            models.CheckConstraint(
                condition=Q(majority_denominator__gte=1)
                & Q(majority_numerator__lte=models.F("majority_denominator")),
                name="body_majority_fraction_valid",
            ),
            models.CheckConstraint(
                condition=Q(grid__isnull=True) | ~Q(kind__in=[k.value for k in LEGAL_KINDS]),
                name="body_legal_kinds_village_level",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def rules_snapshot(self) -> dict:
        return {
            "quorum_numerator": self.quorum_numerator,
            "quorum_denominator": self.quorum_denominator,
            "quorum_strict": self.quorum_strict,
            "majority_numerator": self.majority_numerator,
            "majority_denominator": self.majority_denominator,
            "majority_strict": self.majority_strict,
            "majority_on_present": self.majority_base == MajorityBase.PRESENT,
        }

    @property
    def is_villagers_assembly(self) -> bool:
        return self.kind == BodyKind.VILLAGERS_ASSEMBLY

    @property
    def is_representatives_assembly(self) -> bool:
        return self.kind == BodyKind.REPRESENTATIVES_ASSEMBLY


class Membership(models.Model):
    class Role(models.TextChoices):
        CHAIR = "chair", _("会长")
        VICE_CHAIR = "vice_chair", _("副会长")
        MEMBER = "member", _("成员")

    body = models.ForeignKey(
        Body, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("议事机构")
    )
    resident = models.ForeignKey(
        Resident, on_delete=models.PROTECT, related_name="body_memberships", verbose_name=_("村民")
    )
    role = models.CharField(_("职务"), max_length=12, choices=Role.choices, default=Role.MEMBER)
    joined_on = models.DateField(_("加入日期"))
    left_on = models.DateField(_("退出日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("机构成员")
        verbose_name_plural = _("机构成员")
        ordering = ["body", "role", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["body", "resident"],
                condition=Q(left_on__isnull=True),
                name="membership_active_once",
            ),
            models.UniqueConstraint(
                fields=["body"],
                condition=Q(left_on__isnull=True, role="chair"),
                name="membership_one_active_chair",
            ),
            models.CheckConstraint(
                condition=Q(left_on__isnull=True) | Q(left_on__gte=models.F("joined_on")),
                name="membership_term_ordered",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.body} · {self.resident} · {self.get_role_display()}"


class Meeting(models.Model):
    class Kind(models.TextChoices):
        WUCHANG = "wuchang", _("屋场会")
        YUANBA = "yuanba", _("院坝会")
        YEHUA = "yehua", _("夜话乡村")
        SESSION = "session", _("机构会议")

    class Venue(models.TextChoices):
        COURTYARD = "courtyard", _("议事小院")
        CORRIDOR = "corridor", _("议事长廊")
        WUCHANG = "wuchang", _("屋场")
        OTHER = "other", _("其他地点")

    class Status(models.TextChoices):
        DRAFT = "draft", _("筹备中")
        ANNOUNCED = "announced", _("已发布通知")
        HELD = "held", _("已召开")
        CANCELLED = "cancelled", _("已取消")

    village = models.ForeignKey(
        Village, on_delete=models.PROTECT, related_name="meetings", verbose_name=_("村")
    )
    body = models.ForeignKey(
        Body,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="meetings",
        verbose_name=_("议事机构"),
    )
    grid = models.ForeignKey(
        Grid,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="meetings",
        verbose_name=_("网格"),
    )
    kind = models.CharField(_("会议形式"), max_length=10, choices=Kind.choices)
    title = models.CharField(_("会议名称"), max_length=100)
    venue = models.CharField(_("地点类型"), max_length=10, choices=Venue.choices)
    venue_name = models.CharField(_("地点名称"), max_length=100, blank=True, default="")
    scheduled_at = models.DateTimeField(_("召开时间"))
    urgent = models.BooleanField(_("紧急会议"), default=False)
    notice_text = models.TextField(_("会议通知"), blank=True, default="")
    notice_published_at = models.DateTimeField(_("通知发布时间"), null=True, blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    held_at = models.DateTimeField(_("实际召开时间"), null=True, blank=True)
    minutes = models.TextField(_("会议记录"), blank=True, default="")
    resolutions = models.TextField(_("会议决议"), blank=True, default="")
    # Frozen when the meeting is closed so that later roster changes do not move a past quorum.
    eligible_adults = models.PositiveIntegerField(_("应到年满18周岁村民"), null=True, blank=True)
    eligible_households = models.PositiveIntegerField(_("应到户数"), null=True, blank=True)
    eligible_members = models.PositiveIntegerField(_("应到成员"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("创建人"),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("会议")
        verbose_name_plural = _("会议")
        ordering = ["-scheduled_at", "-id"]
        indexes = [models.Index(fields=["village", "scheduled_at"], name="meeting_village_time")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status__in=["announced", "held"])
                | Q(notice_published_at__isnull=False),
                name="meeting_announced_has_notice",
            ),
            models.CheckConstraint(
                condition=~Q(status="held") | Q(held_at__isnull=False),
                name="meeting_held_has_time",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def venue_label(self) -> str:
        if self.venue_name:
            return f"{self.get_venue_display()}·{self.venue_name}"
        return self.get_venue_display()


class MeetingPhoto(models.Model):
    meeting = models.ForeignKey(
        Meeting, on_delete=models.CASCADE, related_name="photos", verbose_name=_("会议")
    )
    image = models.ImageField(_("照片"), upload_to="meetings/%Y/%m/")
    caption = models.CharField(_("说明"), max_length=100, blank=True, default="")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("上传人"),
    )
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("会议照片")
        verbose_name_plural = _("会议照片")
        ordering = ["meeting", "uploaded_at", "id"]

    def __str__(self) -> str:
        return f"{self.meeting} · {self.caption or self.pk}"


class AgendaItem(models.Model):
    meeting = models.ForeignKey(
        Meeting, on_delete=models.CASCADE, related_name="agenda_items", verbose_name=_("会议")
    )
    position = models.PositiveSmallIntegerField(_("序号"))
    title = models.CharField(_("议题"), max_length=200)
    description = models.TextField(_("说明"), blank=True, default="")

    class Meta:
        verbose_name = _("议题")
        verbose_name_plural = _("议题")
        ordering = ["meeting", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["meeting", "position"], name="agenda_item_position_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.title}"


class Attendance(models.Model):
    """One person present at a meeting.

    ``household`` is the household the person belongs to; ``proxy_for`` is a further household
    they represent by written proxy (委托), so that "households represented" counts it.
    """

    meeting = models.ForeignKey(
        Meeting, on_delete=models.CASCADE, related_name="attendances", verbose_name=_("会议")
    )
    resident = models.ForeignKey(
        Resident, on_delete=models.PROTECT, related_name="attendances", verbose_name=_("到会村民")
    )
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, related_name="attendances", verbose_name=_("户")
    )
    proxy_for = models.ForeignKey(
        Household,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="proxy_attendances",
        verbose_name=_("受托代表的户"),
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("登记人"),
    )
    recorded_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("到会登记")
        verbose_name_plural = _("到会登记")
        ordering = ["meeting", "household", "resident"]
        constraints = [
            models.UniqueConstraint(fields=["meeting", "resident"], name="attendance_once"),
            models.UniqueConstraint(
                fields=["meeting", "proxy_for"],
                condition=Q(proxy_for__isnull=False),
                name="attendance_proxy_once",
            ),
            models.CheckConstraint(
                condition=Q(proxy_for__isnull=True) | ~Q(proxy_for=models.F("household")),
                name="attendance_proxy_other_household",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.meeting} · {self.resident}"


class Motion(models.Model):
    class Mode(models.TextChoices):
        MEETING = "meeting", _("会议表决")
        HOUSEHOLD_BALLOT = "household_ballot", _("按户表决")

    class Electorate(models.TextChoices):
        ATTENDEES = "attendees", _("到会人员")
        MEMBERS = "members", _("机构成员")
        HOUSEHOLDS = "households", _("全体户(一户一票)")

    class Status(models.TextChoices):
        DRAFT = "draft", _("待表决")
        OPEN = "open", _("表决中")
        CLOSED = "closed", _("已结束")

    village = models.ForeignKey(
        Village, on_delete=models.PROTECT, related_name="motions", verbose_name=_("村")
    )
    meeting = models.ForeignKey(
        Meeting,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="motions",
        verbose_name=_("会议"),
    )
    agenda_item = models.ForeignKey(
        AgendaItem,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="motions",
        verbose_name=_("议题"),
    )
    # A household ballot may be limited to one grid (e.g. the 50 households of one 屋场).
    grid = models.ForeignKey(
        Grid,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="motions",
        verbose_name=_("表决范围(网格)"),
    )
    # Set when the motion is put to a 村民会议 to adopt this version of the village rules: only
    # such a motion, opened after the version passed the legality review, can adopt it.
    rule_version = models.ForeignKey(
        "RuleVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="motions",
        verbose_name=_("表决的村规民约版本"),
    )
    title = models.CharField(_("表决事项"), max_length=200)
    text = models.TextField(_("内容"), blank=True, default="")
    mode = models.CharField(_("表决方式"), max_length=20, choices=Mode.choices)
    electorate = models.CharField(_("表决人"), max_length=12, choices=Electorate.choices)
    secret = models.BooleanField(_("无记名投票"), default=False)
    opens_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    closes_at = models.DateTimeField(_("截止时间"), null=True, blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    # The electorate's size when voting closed (households for a ballot; adults, households
    # and members for a meeting), so that later roster changes never move a past result.
    eligible_households = models.PositiveIntegerField(_("应投户数"), null=True, blank=True)
    eligible_adults = models.PositiveIntegerField(_("应到年满18周岁村民"), null=True, blank=True)
    eligible_members = models.PositiveIntegerField(_("应到成员"), null=True, blank=True)
    # The body's quorum and majority as they stood when voting closed, so that a later change
    # of the body's rules never rewrites a past result.
    body_rules = models.JSONField(_("表决规则"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("创建人"),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("表决事项")
        verbose_name_plural = _("表决事项")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(
                        mode="meeting",
                        meeting__isnull=False,
                        electorate__in=["attendees", "members"],
                    )
                    | Q(mode="household_ballot", meeting__isnull=True, electorate="households")
                ),
                name="motion_mode_matches_electorate",
            ),
            models.CheckConstraint(
                condition=Q(closes_at__isnull=True)
                | Q(opens_at__isnull=True)
                | Q(closes_at__gt=models.F("opens_at")),
                name="motion_period_ordered",
            ),
            models.CheckConstraint(
                condition=Q(rule_version__isnull=True) | Q(mode="meeting"),
                name="motion_rule_version_at_meeting",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class Choice(models.TextChoices):
    YES = "yes", _("赞成")
    NO = "no", _("反对")
    ABSTAIN = "abstain", _("弃权")


def _one_voter_constraints(prefix: str) -> list:
    return [
        models.UniqueConstraint(
            fields=["motion", "resident"],
            condition=Q(resident__isnull=False),
            name=f"{prefix}_once_per_resident",
        ),
        models.UniqueConstraint(
            fields=["motion", "household"],
            condition=Q(household__isnull=False),
            name=f"{prefix}_once_per_household",
        ),
        models.CheckConstraint(
            condition=Q(resident__isnull=True, household__isnull=False)
            | Q(resident__isnull=False, household__isnull=True),
            name=f"{prefix}_one_voter",
        ),
    ]


class Vote(models.Model):
    """An open (记名) vote: who voted and how. Secret ballots never write this table."""

    motion = models.ForeignKey(
        Motion, on_delete=models.PROTECT, related_name="votes", verbose_name=_("表决事项")
    )
    resident = models.ForeignKey(
        Resident, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    household = models.ForeignKey(
        Household, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    choice = models.CharField(_("意见"), max_length=10, choices=Choice.choices)
    cast_at = models.DateTimeField(_("投票时间"), auto_now_add=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = _("记名投票")
        verbose_name_plural = _("记名投票")
        constraints = _one_voter_constraints("vote")

    def __str__(self) -> str:
        return f"{self.motion} · {self.resident or self.household}"


class VoteReceipt(models.Model):
    """A secret ballot: only *that* the voter voted. No choice, no time (it could be matched)."""

    motion = models.ForeignKey(
        Motion, on_delete=models.PROTECT, related_name="receipts", verbose_name=_("表决事项")
    )
    resident = models.ForeignKey(
        Resident, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    household = models.ForeignKey(
        Household, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("无记名投票回执")
        verbose_name_plural = _("无记名投票回执")
        constraints = _one_voter_constraints("receipt")

    def __str__(self) -> str:
        return f"{self.motion} · {self.resident or self.household}"


class BallotTally(models.Model):
    """Running count per choice of a secret ballot, incremented in place (no row per vote)."""

    motion = models.ForeignKey(
        Motion, on_delete=models.PROTECT, related_name="tallies", verbose_name=_("表决事项")
    )
    choice = models.CharField(_("意见"), max_length=10, choices=Choice.choices)
    count = models.PositiveIntegerField(_("票数"), default=0)

    class Meta:
        verbose_name = _("无记名计票")
        verbose_name_plural = _("无记名计票")
        constraints = [
            models.UniqueConstraint(fields=["motion", "choice"], name="tally_once_per_choice"),
        ]

    def __str__(self) -> str:
        return f"{self.motion} · {self.get_choice_display()} {self.count}"


class VillageRule(models.Model):
    village = models.OneToOneField(
        Village, on_delete=models.PROTECT, related_name="village_rule", verbose_name=_("村")
    )
    title = models.CharField(_("名称"), max_length=100, default=_("村规民约"))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("村规民约")
        verbose_name_plural = _("村规民约")

    def __str__(self) -> str:
        return f"{self.village.name}{self.title}"


class RuleVersion(models.Model):
    class Status(models.TextChoices):
        DRAFTING = "drafting", _("起草中")
        CONSULTATION = "consultation", _("征求意见中")
        REVIEW = "review", _("合法性审查中")
        APPROVED = "approved", _("审查通过")
        ADOPTED = "adopted", _("村民会议已通过")
        FILED = "filed", _("已备案")
        IN_FORCE = "in_force", _("施行中")
        SUPERSEDED = "superseded", _("已废止")

    rule = models.ForeignKey(
        VillageRule, on_delete=models.PROTECT, related_name="versions", verbose_name=_("村规民约")
    )
    number = models.PositiveSmallIntegerField(_("版本号"))
    title = models.CharField(_("标题"), max_length=100)
    preamble = models.TextField(_("序言"), blank=True, default="")
    status = models.CharField(
        _("状态"), max_length=14, choices=Status.choices, default=Status.DRAFTING
    )
    consultation_until = models.DateField(_("征求意见截止"), null=True, blank=True)
    review_opinion = models.TextField(_("审查意见"), blank=True, default="")
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("审查人"),
    )
    reviewed_at = models.DateTimeField(_("审查时间"), null=True, blank=True)
    adopted_by = models.OneToOneField(
        Motion,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="adopted_rule_version",
        verbose_name=_("通过的表决"),
    )
    adopted_at = models.DateTimeField(_("通过时间"), null=True, blank=True)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("备案人"),
    )
    filed_at = models.DateTimeField(_("备案时间"), null=True, blank=True)
    in_force_from = models.DateField(_("施行日期"), null=True, blank=True)
    superseded_at = models.DateTimeField(_("废止时间"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("起草人"),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("村规民约版本")
        verbose_name_plural = _("村规民约版本")
        ordering = ["rule", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "number"], name="rule_version_number_unique"),
            models.UniqueConstraint(
                fields=["rule"], condition=Q(status="in_force"), name="rule_one_version_in_force"
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["adopted", "filed", "in_force", "superseded"])
                | Q(adopted_by__isnull=False, adopted_at__isnull=False),
                name="rule_version_adopted_has_motion",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["filed", "in_force"]) | Q(filed_at__isnull=False),
                name="rule_version_filed_has_time",
            ),
            models.CheckConstraint(
                condition=~Q(status="in_force") | Q(in_force_from__isnull=False),
                name="rule_version_in_force_has_date",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title}（第{self.number}版）"


class RuleReview(models.Model):
    """One legality review decision (合法性审查); a version may be returned more than once."""

    class Decision(models.TextChoices):
        APPROVE = "approve", _("审查通过")
        RETURN = "return", _("退回修改")

    version = models.ForeignKey(
        RuleVersion, on_delete=models.PROTECT, related_name="reviews", verbose_name=_("版本")
    )
    decision = models.CharField(_("结论"), max_length=10, choices=Decision.choices)
    opinion = models.TextField(_("审查意见"))
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("合法性审查")
        verbose_name_plural = _("合法性审查")
        ordering = ["version", "at"]

    def __str__(self) -> str:
        return f"{self.version} · {self.get_decision_display()}"


class Article(models.Model):
    version = models.ForeignKey(
        RuleVersion, on_delete=models.CASCADE, related_name="articles", verbose_name=_("版本")
    )
    number = models.PositiveSmallIntegerField(_("条号"))
    title = models.CharField(_("标题"), max_length=100, blank=True, default="")
    text = models.TextField(_("条文"))

    class Meta:
        verbose_name = _("条款")
        verbose_name_plural = _("条款")
        ordering = ["version", "number"]
        constraints = [
            models.UniqueConstraint(fields=["version", "number"], name="article_number_unique"),
            models.CheckConstraint(condition=Q(number__gte=1), name="article_number_positive"),
        ]

    def __str__(self) -> str:
        return f"第{self.number}条" + (f" {self.title}" if self.title else "")


class Comment(models.Model):
    class Channel(models.TextChoices):
        PUBLIC = "public", _("公开页面")
        REPRESENTATIVE = "representative", _("联户代表转达")

    article = models.ForeignKey(
        Article, on_delete=models.CASCADE, related_name="comments", verbose_name=_("条款")
    )
    channel = models.CharField(_("渠道"), max_length=16, choices=Channel.choices)
    author_name = models.CharField(_("提出人"), max_length=50)
    household = models.ForeignKey(
        Household,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("户"),
    )
    text = models.TextField(_("意见"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("登记人"),
    )
    created_at = models.DateTimeField(_("提出时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("意见建议")
        verbose_name_plural = _("意见建议")
        ordering = ["article", "created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(channel="public") | Q(recorded_by__isnull=False),
                name="comment_representative_recorded_by",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.article} · {self.author_name}"


class Commitment(models.Model):
    """我承诺: a household signed the version in force."""

    version = models.ForeignKey(
        RuleVersion, on_delete=models.PROTECT, related_name="commitments", verbose_name=_("版本")
    )
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, related_name="commitments", verbose_name=_("户")
    )
    signed_on = models.DateField(_("签署日期"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("登记人"),
    )
    recorded_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("承诺签署")
        verbose_name_plural = _("承诺签署")
        ordering = ["version", "household"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "household"], name="commitment_once_per_household"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.version} · {self.household}"
