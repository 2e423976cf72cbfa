"""The township's request closed loop (发现→反映→解决→反馈), notices, work lists and 三个清单."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from grids.choices import QuickChoiceDisplay
from grids.models import Grid, Household, Representative, Resident, Township, Village, Visit


class Department(models.Model):
    """A township department (民政、农业农村…) that acknowledges (报到) and handles 政事."""

    township = models.ForeignKey(
        Township, on_delete=models.PROTECT, related_name="departments", verbose_name=_("乡镇")
    )
    name = models.CharField(_("部门名称"), max_length=50)
    ack_hours = models.PositiveSmallIntegerField(_("报到时限(小时)"), default=24)
    # Empty: the township's 政事 limit applies; a number is this department's own limit.
    handle_days = models.PositiveSmallIntegerField(
        _("办理时限(天)"),
        null=True,
        blank=True,
        default=None,
        help_text=_("留空则按乡镇设置的政事办理时限；填写则本部门承办的政事按此天数计算"),
    )
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("部门")
        verbose_name_plural = _("部门")
        ordering = ["township", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["township", "name"], name="department_name_unique_in_township"
            ),
            models.CheckConstraint(condition=Q(ack_hours__gte=1), name="department_ack_positive"),
            models.CheckConstraint(
                condition=Q(handle_days__isnull=True) | Q(handle_days__gte=1),
                name="department_handle_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class DepartmentMember(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="department_memberships",
        verbose_name=_("用户"),
    )
    department = models.ForeignKey(
        Department, on_delete=models.CASCADE, related_name="members", verbose_name=_("部门")
    )

    class Meta:
        verbose_name = _("部门经办人")
        verbose_name_plural = _("部门经办人")
        constraints = [
            models.UniqueConstraint(fields=["user", "department"], name="department_member_unique")
        ]

    def __str__(self) -> str:
        return f"{self.department} · {self.user}"


class RequestCategory(models.Model):
    """A township's request category (道路交通、环境卫生…), configurable in the admin."""

    township = models.ForeignKey(
        Township,
        on_delete=models.PROTECT,
        related_name="request_categories",
        verbose_name=_("乡镇"),
    )
    name = models.CharField(_("类别名称"), max_length=30)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("诉求类别")
        verbose_name_plural = _("诉求类别")
        ordering = ["township", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["township", "name"], name="request_category_unique_in_township"
            )
        ]

    def __str__(self) -> str:
        return self.name


class CatalogueItem(models.Model):
    """One entry of the township's 三个清单; an item on the 减负 list is never given to a village."""

    class ListKind(models.TextChoices):
        SELF_GOVERNANCE = "self_governance", _("依法自治事项")
        ASSIST_GOVERNMENT = "assist_government", _("依法协助政府工作事项")
        BURDEN_RELIEF = "burden_relief", _("减负事项")

    township = models.ForeignKey(
        Township, on_delete=models.PROTECT, related_name="catalogue_items", verbose_name=_("乡镇")
    )
    list_kind = models.CharField(_("清单"), max_length=20, choices=ListKind.choices)
    code = models.CharField(_("编号"), max_length=20)
    title = models.CharField(_("事项"), max_length=200)
    legal_basis = models.CharField(_("依据"), max_length=300, blank=True, default="")
    added_on = models.DateField(_("列入日期"))
    exited_on = models.DateField(_("退出日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("清单事项")
        verbose_name_plural = _("三个清单")
        ordering = ["township", "list_kind", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["township", "code"], name="catalogue_code_unique_in_township"
            ),
            models.CheckConstraint(
                condition=Q(exited_on__isnull=True) | Q(exited_on__gte=F("added_on")),
                name="catalogue_exit_after_add",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    @property
    def assignable_to_village(self) -> bool:
        return self.list_kind != self.ListKind.BURDEN_RELIEF and self.exited_on is None


class CatalogueChange(models.Model):
    """History of the 三个清单: every add, change and exit, with before → after."""

    class Action(models.TextChoices):
        ADD = "add", _("列入")
        CHANGE = "change", _("调整")
        EXIT = "exit", _("退出")

    item = models.ForeignKey(
        CatalogueItem, on_delete=models.PROTECT, related_name="changes", verbose_name=_("事项")
    )
    action = models.CharField(_("变动"), max_length=10, choices=Action.choices)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("操作人"),
    )
    at = models.DateTimeField(_("时间"), auto_now_add=True)
    reason = models.CharField(_("理由"), max_length=300, blank=True, default="")
    before = models.JSONField(_("变动前"), default=dict, blank=True)
    after = models.JSONField(_("变动后"), default=dict, blank=True)

    class Meta:
        verbose_name = _("清单变动记录")
        verbose_name_plural = _("清单变动记录")
        ordering = ["item", "at", "id"]

    def __str__(self) -> str:
        return f"{self.item} {self.get_action_display()}"


class Request(QuickChoiceDisplay, models.Model):
    """诉求 / 咨询 / 点单 / 矛盾纠纷. The row is a cache of its RequestEvents."""

    class Kind(models.TextChoices):
        REQUEST = "request", _("诉求")
        CONSULTATION = "consultation", _("咨询")
        SERVICE_ORDER = "service_order", _("点单")
        DISPUTE = "dispute", _("矛盾纠纷")

    class Level(models.TextChoices):
        GRID = "grid", _("民事（网格）")
        VILLAGE = "village", _("村事（村级）")
        TOWNSHIP = "township", _("政事（乡镇）")

    class Status(models.TextChoices):
        REPORTED = "reported", _("待分流")
        TRIAGED = "triaged", _("已分流")
        ACKNOWLEDGED = "acknowledged", _("已报到")
        IN_PROGRESS = "in_progress", _("办理中")
        RESOLVED = "resolved", _("已办结待回访")
        CLOSED = "closed", _("已关闭")
        DUPLICATE = "duplicate", _("重复件")

    class Satisfaction(models.TextChoices):
        SATISFIED = "satisfied", _("满意")
        BASICALLY = "basically", _("基本满意")
        UNSATISFIED = "unsatisfied", _("不满意")

    OPEN_STATUSES = (
        Status.REPORTED,
        Status.TRIAGED,
        Status.ACKNOWLEDGED,
        Status.IN_PROGRESS,
        Status.RESOLVED,
    )
    # Statuses in which the clock runs against the handler (overdue is computed from these).
    HANDLING_STATUSES = (Status.TRIAGED, Status.ACKNOWLEDGED, Status.IN_PROGRESS)

    village = models.ForeignKey(
        Village, on_delete=models.PROTECT, related_name="requests", verbose_name=_("村")
    )
    grid = models.ForeignKey(
        Grid,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="requests",
        verbose_name=_("网格"),
    )
    household = models.ForeignKey(
        Household,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="requests",
        verbose_name=_("户"),
    )
    resident = models.ForeignKey(
        Resident,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="requests",
        verbose_name=_("反映人"),
    )
    representative = models.ForeignKey(
        Representative,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="requests",
        verbose_name=_("联户代表"),
    )
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("登记人"),
    )
    source_visit = models.ForeignKey(
        Visit,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="requests",
        verbose_name=_("来源走访"),
    )
    kind = models.CharField(_("类型"), max_length=15, choices=Kind.choices, default=Kind.REQUEST)
    category = models.ForeignKey(
        RequestCategory,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="requests",
        verbose_name=_("类别"),
    )
    catalogue_item = models.ForeignKey(
        CatalogueItem,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="requests",
        verbose_name=_("清单事项"),
    )
    title = models.CharField(_("标题"), max_length=100)
    description = models.TextField(_("具体情况"), blank=True, default="")
    photo = models.ImageField(_("照片"), upload_to="requests/%Y/%m/", blank=True, default="")
    # Dispute (矛盾纠纷) details; the agreement text is filled in once mediation succeeds.
    dispute_parties = models.CharField(_("纠纷当事人"), max_length=200, blank=True, default="")
    mediators = models.CharField(_("调解人"), max_length=200, blank=True, default="")
    mediation_agreement = models.TextField(_("调解协议"), blank=True, default="")

    proposed_level = models.CharField(
        _("建议层级"), max_length=10, choices=Level.choices, default=Level.GRID
    )
    level = models.CharField(
        _("办理层级"), max_length=10, choices=Level.choices, blank=True, default=""
    )
    department = models.ForeignKey(
        Department,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="requests",
        verbose_name=_("承办部门"),
    )
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="handled_requests",
        verbose_name=_("经办人"),
    )
    status = models.CharField(
        _("状态"), max_length=15, choices=Status.choices, default=Status.REPORTED
    )
    reported_at = models.DateTimeField(_("反映时间"))
    triaged_at = models.DateTimeField(_("分流时间"), null=True, blank=True)
    ack_deadline = models.DateTimeField(_("报到期限"), null=True, blank=True)
    acknowledged_at = models.DateTimeField(_("报到时间"), null=True, blank=True)
    deadline = models.DateTimeField(_("办理期限"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    resolved_level = models.CharField(
        _("办结层级"), max_length=10, choices=Level.choices, blank=True, default=""
    )
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)
    escalated = models.BooleanField(_("曾上报升级"), default=False)
    satisfaction = models.CharField(
        _("满意度"), max_length=12, choices=Satisfaction.choices, blank=True, default=""
    )
    duplicate_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="duplicates",
        verbose_name=_("重复于"),
    )

    class Meta:
        verbose_name = _("诉求")
        verbose_name_plural = _("诉求")
        ordering = ["-reported_at", "-id"]
        indexes = [
            models.Index(fields=["village", "status"], name="request_village_status"),
            models.Index(fields=["department", "status"], name="request_department_status"),
            models.Index(fields=["representative", "status"], name="request_rep_status"),
            models.Index(fields=["status", "deadline"], name="request_status_deadline"),
            # The staff list (newest first, a page at a time) and the month's filters.
            models.Index(fields=["village", "-reported_at"], name="request_village_recent"),
        ]
        constraints = [
            models.CheckConstraint(
                name="request_duplicate_has_original",
                condition=(
                    Q(status="duplicate", duplicate_of__isnull=False)
                    | (~Q(status="duplicate") & Q(duplicate_of__isnull=True))
                ),
            ),
            models.CheckConstraint(
                name="request_not_duplicate_of_itself", condition=~Q(duplicate_of=F("pk"))
            ),
            models.CheckConstraint(
                name="request_township_level_has_department",
                condition=~Q(level="township") | Q(department__isnull=False),
            ),
            models.CheckConstraint(
                name="request_triaged_has_level",
                condition=Q(status__in=["reported", "duplicate"]) | ~Q(level=""),
            ),
            models.CheckConstraint(
                name="request_resolved_has_time",
                condition=~Q(status="resolved") | Q(resolved_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class RequestEvent(models.Model):
    """One transition of a request. Append-only: database triggers reject UPDATE and DELETE."""

    request = models.ForeignKey(
        Request, on_delete=models.PROTECT, related_name="events", verbose_name=_("诉求")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("操作人"),
    )
    at = models.DateTimeField(_("时间"))
    action = models.CharField(_("动作"), max_length=20)
    from_status = models.CharField(_("原状态"), max_length=15, blank=True, default="")
    to_status = models.CharField(_("新状态"), max_length=15)
    note = models.TextField(_("说明"), blank=True, default="")

    class Meta:
        verbose_name = _("诉求办理记录")
        verbose_name_plural = _("诉求办理记录")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["request", "at"], name="request_event_timeline")]

    def __str__(self) -> str:
        return f"{self.request_id} {self.action} {self.from_status}→{self.to_status}"

    @property
    def action_label(self) -> str:
        return str(EVENT_ACTION_LABELS.get(self.action, self.action))

    @property
    def from_label(self) -> str:
        return _status_label(self.from_status)

    @property
    def to_label(self) -> str:
        return _status_label(self.to_status)


EVENT_ACTION_LABELS = {
    "report": _("登记"),
    "triage": _("分流"),
    "acknowledge": _("部门报到"),
    "start": _("开始办理"),
    "progress": _("进展"),
    "resolve": _("办结"),
    "escalate": _("上报"),
    "return": _("部门退回"),
    "return_visit": _("回访"),
    "reopen": _("不满意，重新办理"),
    "close": _("关闭"),
    "answer": _("答复"),
    "duplicate": _("标记重复"),
    "supervise": _("督办"),
    "overdue": _("超期督办"),
    "meeting": _("提交议事会议"),
}


class RequestMeeting(models.Model):
    """A request taken to a meeting (民事 settled by neighbours' deliberation at a 屋场会)."""

    request = models.ForeignKey(
        "Request", on_delete=models.PROTECT, related_name="meeting_links", verbose_name=_("诉求")
    )
    meeting = models.ForeignKey(
        "deliberation.Meeting",
        on_delete=models.PROTECT,
        related_name="request_links",
        verbose_name=_("会议"),
    )
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("关联人"),
    )
    linked_at = models.DateTimeField(_("关联时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("诉求议事记录")
        verbose_name_plural = _("诉求议事记录")
        constraints = [
            models.UniqueConstraint(fields=["request", "meeting"], name="request_meeting_once"),
        ]

    def __str__(self) -> str:
        return f"{self.request_id} → {self.meeting_id}"


def _status_label(value: str) -> str:
    if not value:
        return "—"
    try:
        return str(Request.Status(value).label)
    except ValueError:
        return value


class ReturnVisit(models.Model):
    """回访: the resident's satisfaction after resolution; 不满意 reopens the request."""

    request = models.ForeignKey(
        Request, on_delete=models.PROTECT, related_name="return_visits", verbose_name=_("诉求")
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("回访人"),
    )
    at = models.DateTimeField(_("回访时间"))
    satisfaction = models.CharField(
        _("满意度"), max_length=12, choices=Request.Satisfaction.choices
    )
    note = models.TextField(_("回访情况"), blank=True, default="")

    class Meta:
        verbose_name = _("回访")
        verbose_name_plural = _("回访")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.request_id} {self.get_satisfaction_display()}"


class Supervision(models.Model):
    """督办: a supervisor's note on an overdue or unacknowledged request; the handler sees it."""

    request = models.ForeignKey(
        Request, on_delete=models.PROTECT, related_name="supervisions", verbose_name=_("诉求")
    )
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("督办人"),
    )
    at = models.DateTimeField(_("督办时间"))
    note = models.TextField(_("督办意见"))

    class Meta:
        verbose_name = _("督办")
        verbose_name_plural = _("督办")
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.request_id} {self.at:%Y-%m-%d}"


class Notice(models.Model):
    """上情下达: a policy or warning that representatives pass on household by household."""

    township = models.ForeignKey(
        Township, on_delete=models.PROTECT, related_name="notices", verbose_name=_("乡镇")
    )
    # Empty village: the whole township.
    village = models.ForeignKey(
        Village,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="notices",
        verbose_name=_("村"),
    )
    title = models.CharField(_("标题"), max_length=100)
    body = models.TextField(_("内容"))
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("发布人"),
    )
    published_at = models.DateTimeField(_("发布时间"))

    class Meta:
        verbose_name = _("上情下达")
        verbose_name_plural = _("上情下达")
        ordering = ["-published_at", "-id"]

    def __str__(self) -> str:
        return self.title


class NoticeDelivery(models.Model):
    """A representative's confirmation that a notice reached one household."""

    notice = models.ForeignKey(
        Notice, on_delete=models.PROTECT, related_name="deliveries", verbose_name=_("通知")
    )
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, related_name="notice_deliveries", verbose_name=_("户")
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("确认人"),
    )
    confirmed_at = models.DateTimeField(_("确认时间"))

    class Meta:
        verbose_name = _("通知送达")
        verbose_name_plural = _("通知送达")
        constraints = [
            models.UniqueConstraint(
                fields=["notice", "household"], name="notice_delivery_once_per_household"
            )
        ]

    def __str__(self) -> str:
        return f"{self.notice_id} → {self.household}"


class WorkList(models.Model):
    """清单一月一制定: the village's work items for one month."""

    village = models.ForeignKey(
        Village, on_delete=models.PROTECT, related_name="work_lists", verbose_name=_("村")
    )
    month = models.DateField(_("月份"))
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("发布人"),
    )
    published_at = models.DateTimeField(_("发布时间"))

    class Meta:
        verbose_name = _("月度工作清单")
        verbose_name_plural = _("月度工作清单")
        ordering = ["-month"]
        constraints = [
            models.UniqueConstraint(fields=["village", "month"], name="work_list_one_per_month"),
            models.CheckConstraint(condition=Q(month__day=1), name="work_list_month_first_day"),
        ]

    def __str__(self) -> str:
        return f"{self.village} {self.month:%Y-%m}"


class WorkListItem(models.Model):
    work_list = models.ForeignKey(
        WorkList, on_delete=models.PROTECT, related_name="items", verbose_name=_("清单")
    )
    title = models.CharField(_("事项"), max_length=200)
    catalogue_item = models.ForeignKey(
        CatalogueItem,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="work_list_items",
        verbose_name=_("清单依据"),
    )
    per_household = models.BooleanField(_("按户完成"), default=True)

    class Meta:
        verbose_name = _("清单事项")
        verbose_name_plural = _("清单事项")
        ordering = ["work_list", "id"]

    def __str__(self) -> str:
        return self.title


class WorkListDone(models.Model):
    """An item marked done for a household (per_household items) or for a whole grid."""

    item = models.ForeignKey(
        WorkListItem, on_delete=models.PROTECT, related_name="done", verbose_name=_("事项")
    )
    household = models.ForeignKey(
        Household, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="+")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(_("完成时间"))

    class Meta:
        verbose_name = _("清单完成")
        verbose_name_plural = _("清单完成")
        constraints = [
            models.UniqueConstraint(
                fields=["item", "household"],
                condition=Q(household__isnull=False),
                name="work_item_done_once_per_household",
            ),
            models.UniqueConstraint(
                fields=["item", "grid"],
                condition=Q(household__isnull=True),
                name="work_item_done_once_per_grid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.item} ✓"


class ServiceDaySetting(models.Model):
    """邻里服务日: the village's monthly day, the n-th given weekday (no row: the first Monday)."""

    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("周一")
        TUESDAY = 1, _("周二")
        WEDNESDAY = 2, _("周三")
        THURSDAY = 3, _("周四")
        FRIDAY = 4, _("周五")
        SATURDAY = 5, _("周六")
        SUNDAY = 6, _("周日")

    class Week(models.IntegerChoices):
        FIRST = 1, _("第一个")
        SECOND = 2, _("第二个")
        THIRD = 3, _("第三个")
        FOURTH = 4, _("第四个")

    village = models.OneToOneField(
        Village, on_delete=models.PROTECT, related_name="service_day", verbose_name=_("村")
    )
    week = models.PositiveSmallIntegerField(_("每月第几个"), choices=Week.choices, default=1)
    weekday = models.PositiveSmallIntegerField(
        _("星期"), choices=Weekday.choices, default=Weekday.MONDAY
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("设置人"),
    )
    updated_at = models.DateTimeField(_("设置时间"), auto_now=True)

    class Meta:
        verbose_name = _("邻里服务日设置")
        verbose_name_plural = _("邻里服务日设置")
        constraints = [
            # Weeks 1-4 only: every month has a fourth Monday, not always a fifth.
            models.CheckConstraint(
                condition=Q(week__gte=1, week__lte=4), name="service_day_week_1_to_4"
            ),
            models.CheckConstraint(
                condition=Q(weekday__gte=0, weekday__lte=6), name="service_day_weekday_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.village} {self.get_week_display()}{self.get_weekday_display()}"


# --- jobs, monthly analysis, honours, quarterly review (issue 6) -------------------------------


class JobRun(models.Model):
    """One run of a background job. One queued/running run per key (partial unique index)."""

    class Kind(models.TextChoices):
        MONTHLY = "monthly", _("月度分析")
        LISTS = "lists", _("季度红黑榜")

    class Status(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("运行中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")

    kind = models.CharField(_("任务"), max_length=10, choices=Kind.choices)
    key = models.CharField(_("任务键"), max_length=60, help_text=_("如 monthly:2026-10"))
    params = models.JSONField(_("参数"), default=dict)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.QUEUED
    )
    done = models.PositiveIntegerField(_("已完成"), default=0)
    total = models.PositiveIntegerField(_("总数"), default=0)
    attempts = models.PositiveSmallIntegerField(_("运行次数"), default=0)
    created_at = models.DateTimeField(_("提交时间"), auto_now_add=True)
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("最近进度"), null=True, blank=True)
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    error = models.TextField(_("错误"), blank=True, default="")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("发起人"),
    )

    class Meta:
        verbose_name = _("后台任务")
        verbose_name_plural = _("后台任务")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["key"],
                condition=Q(status__in=["queued", "running"]),
                name="jobrun_one_active_per_key",
            ),
            models.CheckConstraint(
                condition=~Q(status="running") | Q(started_at__isnull=False),
                name="jobrun_running_has_start",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.key} {self.get_status_display()}"

    @property
    def percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else 0

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)


class MonthlyReport(models.Model):
    """村级一月一分析 (village set) or 镇级汇总 (village empty): a stored snapshot of a month."""

    township = models.ForeignKey(
        Township, on_delete=models.PROTECT, related_name="monthly_reports", verbose_name=_("乡镇")
    )
    village = models.ForeignKey(
        Village,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="monthly_reports",
        verbose_name=_("村"),
    )
    month = models.DateField(_("月份"), help_text=_("当月1日"))
    figures = models.JSONField(_("指标"), default=dict)
    households = models.PositiveIntegerField(_("户数"), default=0)
    visits = models.PositiveIntegerField(_("走访次数"), default=0)
    visited_households = models.PositiveIntegerField(_("走访覆盖户数"), default=0)
    requests = models.PositiveIntegerField(_("诉求件数"), default=0)
    overdue = models.PositiveIntegerField(_("超期件数"), default=0)
    generated_at = models.DateTimeField(_("生成时间"))

    class Meta:
        verbose_name = _("月度分析")
        verbose_name_plural = _("月度分析")
        ordering = ["-month", "township", "village"]
        constraints = [
            models.UniqueConstraint(
                fields=["village", "month"],
                condition=Q(village__isnull=False),
                name="monthly_report_village_month_unique",
            ),
            models.UniqueConstraint(
                fields=["township", "month"],
                condition=Q(village__isnull=True),
                name="monthly_report_township_month_unique",
            ),
            models.CheckConstraint(condition=Q(month__day=1), name="monthly_report_first_of_month"),
        ]

    def __str__(self) -> str:
        return f"{self.village or self.township} {self.month:%Y-%m}"


class RepresentativeHonour(models.Model):
    """Monthly 红旗网格员 and quarterly 优秀村民代表, ranked by the documented score."""

    class Title(models.TextChoices):
        RED_FLAG = "red_flag", _("红旗网格员")
        EXCELLENT = "excellent", _("优秀村民代表")

    village = models.ForeignKey(
        Village, on_delete=models.PROTECT, related_name="rep_honours", verbose_name=_("村")
    )
    representative = models.ForeignKey(
        Representative, on_delete=models.PROTECT, related_name="honours", verbose_name=_("代表")
    )
    title = models.CharField(_("称号"), max_length=10, choices=Title.choices)
    period = models.CharField(_("期间"), max_length=7, help_text=_("2026-10 或 2026Q3"))
    rank = models.PositiveSmallIntegerField(_("名次"))
    score = models.FloatField(_("得分"))
    figures = models.JSONField(_("指标"), default=dict)

    class Meta:
        verbose_name = _("代表荣誉")
        verbose_name_plural = _("代表荣誉")
        ordering = ["-period", "village", "title", "rank"]
        constraints = [
            models.UniqueConstraint(
                fields=["representative", "title", "period"], name="rep_honour_once_per_period"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.period}{self.get_title_display()}"


class QuarterlyReview(models.Model):
    """镇级一季一点评: the township's villages compared for a quarter (stored snapshot)."""

    township = models.ForeignKey(
        Township, on_delete=models.PROTECT, related_name="quarterly_reviews", verbose_name=_("乡镇")
    )
    quarter = models.CharField(_("季度"), max_length=6)
    figures = models.JSONField(_("指标"), default=dict)
    generated_at = models.DateTimeField(_("生成时间"))

    class Meta:
        verbose_name = _("季度点评")
        verbose_name_plural = _("季度点评")
        ordering = ["-quarter", "township"]
        constraints = [
            models.UniqueConstraint(fields=["township", "quarter"], name="quarterly_review_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.township} {self.quarter}"
