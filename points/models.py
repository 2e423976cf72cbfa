"""Points (积分): rules, claims, the append-only ledger, the points supermarket and honours.

Invariants live in the database: CHECK constraints on balances and stock, partial unique
constraints for "once per day" and "once per year", and triggers (migration 0002) that reject
UPDATE and DELETE on the ledger. Every write goes through ``points.services``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from grids.models import Household, Resident, Township, Village


class Category(models.Model):
    class Kind(models.TextChoices):
        MORAL = "moral", _("道德类")
        AFFAIRS = "affairs", _("村务类")

    township = models.ForeignKey(
        Township, on_delete=models.PROTECT, related_name="points_categories", verbose_name=_("乡镇")
    )
    name = models.CharField(_("类别名称"), max_length=30)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)

    class Meta:
        verbose_name = _("积分类别")
        verbose_name_plural = _("积分类别")
        ordering = ["township", "kind", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["township", "name"], name="points_category_name_unique"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class PointsRule(models.Model):
    """A village's rule, or a township template (village empty) that is copied to villages."""

    class Subject(models.TextChoices):
        HOUSEHOLD = "household", _("以户计")
        RESIDENT = "resident", _("以人计")

    township = models.ForeignKey(
        Township, on_delete=models.PROTECT, related_name="points_rules", verbose_name=_("乡镇")
    )
    village = models.ForeignKey(
        Village,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="points_rules",
        verbose_name=_("村"),
        help_text=_("为空表示乡镇模板"),
    )
    template = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="copies",
        verbose_name=_("来源模板"),
    )
    code = models.CharField(_("编号"), max_length=20)
    name = models.CharField(_("事项"), max_length=60)
    category = models.ForeignKey(
        Category, on_delete=models.PROTECT, related_name="rules", verbose_name=_("类别")
    )
    points = models.IntegerField(_("分值"), help_text=_("加分为正，扣分为负"))
    subject = models.CharField(
        _("对象"), max_length=10, choices=Subject.choices, default=Subject.HOUSEHOLD
    )
    needs_review = models.BooleanField(
        _("需会议审议"), default=False, help_text=_("审批时必须关联作出决定的会议")
    )
    max_per_month = models.PositiveSmallIntegerField(_("每月上限次数"), null=True, blank=True)
    max_per_quarter = models.PositiveSmallIntegerField(_("每季上限次数"), null=True, blank=True)
    max_per_year = models.PositiveSmallIntegerField(_("每年上限次数"), null=True, blank=True)
    allow_same_day_repeat = models.BooleanField(_("同日可重复"), default=False)
    black_list_offence = models.BooleanField(_("列入黑榜事项"), default=False)
    active_from = models.DateField(_("生效日期"))
    active_to = models.DateField(_("失效日期"), null=True, blank=True)
    legal_basis = models.ForeignKey(
        "deliberation.Article",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="points_rules",
        verbose_name=_("依据条款"),
        help_text=_("本规则执行的村规民约条款"),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("积分规则")
        verbose_name_plural = _("积分规则")
        ordering = ["village", "category", "code"]
        constraints = [
            models.CheckConstraint(condition=~Q(points=0), name="points_rule_points_nonzero"),
            models.CheckConstraint(
                condition=Q(active_to__isnull=True) | Q(active_to__gte=F("active_from")),
                name="points_rule_active_ordered",
            ),
            models.CheckConstraint(
                condition=(Q(max_per_month__isnull=True) | Q(max_per_month__gte=1))
                & (Q(max_per_quarter__isnull=True) | Q(max_per_quarter__gte=1))
                & (Q(max_per_year__isnull=True) | Q(max_per_year__gte=1)),
                name="points_rule_caps_positive",
            ),
            models.UniqueConstraint(
                fields=["village", "code"],
                condition=Q(village__isnull=False),
                name="points_rule_code_unique_in_village",
            ),
            models.UniqueConstraint(
                fields=["township", "code"],
                condition=Q(village__isnull=True),
                name="points_rule_code_unique_in_township_templates",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.points:+d}）"

    @property
    def is_template(self) -> bool:
        return self.village_id is None

    def is_active_on(self, day) -> bool:
        return self.active_from <= day and (self.active_to is None or day <= self.active_to)


class Account(models.Model):
    """One per household. ``balance`` is a cache of the sum of the household's ledger entries."""

    household = models.OneToOneField(
        Household, on_delete=models.PROTECT, related_name="points_account", verbose_name=_("户")
    )
    balance = models.IntegerField(_("积分余额"), default=0)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("积分账户")
        verbose_name_plural = _("积分账户")
        constraints = [
            models.CheckConstraint(
                condition=Q(balance__gte=0), name="points_account_balance_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.household}：{self.balance}"


class TwoPersonDecision(models.Model):
    """What a claim and a batch of claims share: submitted by one person, approved or rejected
    (with a reason) by another — the database refuses the submitter as the decider."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待审核")
        APPROVED = "approved", _("已通过")
        REJECTED = "rejected", _("已驳回")

    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="points_%(class)s_submitted",
        verbose_name=_("申报人"),
    )
    submitted_at = models.DateTimeField(_("申报时间"), auto_now_add=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="points_%(class)s_decided",
        verbose_name=_("审核人"),
    )
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    reason = models.CharField(_("审核意见"), max_length=300, blank=True, default="")

    class Meta:
        abstract = True


def two_person_constraints(prefix: str) -> list[models.CheckConstraint]:
    """The decision's rules as CHECK constraints, named ``<prefix>_…``."""
    return [
        models.CheckConstraint(
            condition=Q(decided_by__isnull=True) | ~Q(decided_by=F("submitted_by")),
            name=f"{prefix}_decider_not_submitter",
        ),
        models.CheckConstraint(
            condition=Q(status="pending", decided_by__isnull=True, decided_at__isnull=True)
            | Q(
                status__in=["approved", "rejected"],
                decided_by__isnull=False,
                decided_at__isnull=False,
            ),
            name=f"{prefix}_decision_matches_status",
        ),
        models.CheckConstraint(
            condition=~Q(status="rejected") | ~Q(reason=""),
            name=f"{prefix}_rejection_has_reason",
        ),
    ]


class ClaimBatch(TwoPersonDecision):
    """批量申报: one rule, one day, many households (a clean-up day). Recorded by one staff
    member, approved or rejected as a whole by another: the two-person rule of single claims."""

    rule = models.ForeignKey(
        PointsRule, on_delete=models.PROTECT, related_name="batches", verbose_name=_("积分事项")
    )
    village = models.ForeignKey(
        Village, on_delete=models.PROTECT, related_name="points_claim_batches", verbose_name=_("村")
    )
    occurred_on = models.DateField(_("日期"))
    note = models.CharField(_("说明"), max_length=300, blank=True, default="")
    size = models.PositiveIntegerField(_("户数"))

    class Meta:
        verbose_name = _("批量申报")
        verbose_name_plural = _("批量申报")
        ordering = ["-submitted_at", "-id"]
        constraints = [
            *two_person_constraints("points_batch"),
            models.CheckConstraint(condition=Q(size__gte=1), name="points_batch_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.rule.name} · {self.occurred_on} · {self.size}户"


class Claim(TwoPersonDecision):
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, related_name="points_claims", verbose_name=_("户")
    )
    resident = models.ForeignKey(
        Resident,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="points_claims",
        verbose_name=_("村民"),
    )
    rule = models.ForeignKey(
        PointsRule, on_delete=models.PROTECT, related_name="claims", verbose_name=_("积分事项")
    )
    occurred_on = models.DateField(_("事迹日期"))
    note = models.CharField(_("说明"), max_length=300, blank=True, default="")
    evidence = models.ImageField(_("照片"), upload_to="points/claims/%Y/%m/", blank=True)
    meeting = models.ForeignKey(
        "deliberation.Meeting",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="points_claims",
        verbose_name=_("审议会议"),
    )
    # Claims of a batch are decided only together, through the batch.
    batch = models.ForeignKey(
        ClaimBatch,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="claims",
        verbose_name=_("批量申报"),
    )

    class Meta:
        verbose_name = _("积分申报")
        verbose_name_plural = _("积分申报")
        ordering = ["-submitted_at", "-id"]
        constraints = two_person_constraints("points_claim")

    def __str__(self) -> str:
        return f"{self.household} · {self.rule.name} · {self.occurred_on}"


class Shop(models.Model):
    """积分超市: one or more per village."""

    village = models.ForeignKey(
        Village, on_delete=models.PROTECT, related_name="points_shops", verbose_name=_("村")
    )
    name = models.CharField(_("名称"), max_length=50, default="积分超市")

    class Meta:
        verbose_name = _("积分超市")
        verbose_name_plural = _("积分超市")
        ordering = ["village", "id"]
        constraints = [
            models.UniqueConstraint(fields=["village", "name"], name="points_shop_name_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.village.name}{self.name}"


class Product(models.Model):
    shop = models.ForeignKey(
        Shop, on_delete=models.PROTECT, related_name="products", verbose_name=_("超市")
    )
    name = models.CharField(_("商品"), max_length=60)
    points_price = models.PositiveIntegerField(_("兑换积分"))
    stock = models.IntegerField(_("库存"), default=0)
    active = models.BooleanField(_("上架"), default=True)

    class Meta:
        verbose_name = _("商品")
        verbose_name_plural = _("商品")
        ordering = ["shop", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(points_price__gt=0), name="points_product_price_positive"
            ),
            models.CheckConstraint(
                condition=Q(stock__gte=0), name="points_product_stock_not_negative"
            ),
            models.UniqueConstraint(fields=["shop", "name"], name="points_product_name_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.points_price}分）"


class Redemption(models.Model):
    class Status(models.TextChoices):
        DONE = "done", _("已兑换")
        CANCELLED = "cancelled", _("已撤销")

    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="redemptions", verbose_name=_("账户")
    )
    shop = models.ForeignKey(
        Shop, on_delete=models.PROTECT, related_name="redemptions", verbose_name=_("超市")
    )
    total_points = models.PositiveIntegerField(_("合计积分"))
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("经办人"),
    )
    at = models.DateTimeField(_("兑换时间"))
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.DONE)
    # The counter form carries a one-time key: a double-tapped "confirm" cannot spend twice.
    request_key = models.CharField(max_length=40, unique=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("撤销人"),
    )
    cancelled_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    cancel_reason = models.CharField(_("撤销原因"), max_length=200, blank=True, default="")

    class Meta:
        verbose_name = _("兑换单")
        verbose_name_plural = _("兑换单")
        ordering = ["-at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(total_points__gt=0), name="points_redemption_total_positive"
            ),
            models.CheckConstraint(
                condition=Q(status="done", cancelled_at__isnull=True)
                | Q(status="cancelled", cancelled_at__isnull=False, cancelled_by__isnull=False),
                name="points_redemption_cancel_matches_status",
            ),
        ]

    def __str__(self) -> str:
        return f"兑换单{self.pk}（{self.total_points}分）"


class RedemptionLine(models.Model):
    redemption = models.ForeignKey(
        Redemption, on_delete=models.PROTECT, related_name="lines", verbose_name=_("兑换单")
    )
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="+", verbose_name=_("商品")
    )
    quantity = models.PositiveIntegerField(_("数量"))
    # The price at the counter; a later price change does not rewrite old receipts.
    unit_points = models.PositiveIntegerField(_("单价积分"))

    class Meta:
        verbose_name = _("兑换明细")
        verbose_name_plural = _("兑换明细")
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="points_redemption_line_qty_positive"
            ),
            models.UniqueConstraint(
                fields=["redemption", "product"], name="points_redemption_line_product_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product_id}×{self.quantity}"

    @property
    def points(self) -> int:
        return self.quantity * self.unit_points


class StockMovement(models.Model):
    class Kind(models.TextChoices):
        PURCHASE = "purchase", _("采购入库")
        DONATION = "donation", _("捐赠入库")
        REDEMPTION = "redemption", _("兑换出库")
        RETURN = "return", _("撤销退回")
        CORRECTION = "correction", _("盘点更正")

    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="movements", verbose_name=_("商品")
    )
    quantity = models.IntegerField(_("数量"), help_text=_("入库为正，出库为负"))
    kind = models.CharField(_("类型"), max_length=12, choices=Kind.choices)
    donor = models.CharField(_("捐赠人"), max_length=60, blank=True, default="")
    cost_yuan = models.DecimalField(
        _("金额(元)"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    redemption = models.ForeignKey(
        Redemption,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="stock_movements",
        verbose_name=_("兑换单"),
    )
    note = models.CharField(_("备注"), max_length=200, blank=True, default="")
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("经办人"),
    )
    at = models.DateTimeField(_("时间"), db_index=True)

    class Meta:
        verbose_name = _("出入库记录")
        verbose_name_plural = _("出入库记录")
        ordering = ["-at", "-id"]
        constraints = [
            models.CheckConstraint(condition=~Q(quantity=0), name="points_stock_qty_nonzero"),
            models.CheckConstraint(
                condition=~Q(kind="purchase")
                | Q(quantity__gt=0, cost_yuan__isnull=False, cost_yuan__gte=0),
                name="points_stock_purchase_has_cost",
            ),
            models.CheckConstraint(
                condition=~Q(kind="donation") | (Q(quantity__gt=0) & ~Q(donor="")),
                name="points_stock_donation_has_donor",
            ),
            models.CheckConstraint(
                condition=~Q(kind="redemption") | Q(quantity__lt=0, redemption__isnull=False),
                name="points_stock_redemption_is_outgoing",
            ),
            models.CheckConstraint(
                condition=~Q(kind="return") | Q(quantity__gt=0, redemption__isnull=False),
                name="points_stock_return_is_incoming",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.product.name} {self.quantity:+d}"


class LedgerEntry(models.Model):
    """One line of a household's passbook. Append-only: a database trigger rejects UPDATE/DELETE."""

    class Kind(models.TextChoices):
        BASE = "base", _("基础分")
        AWARD = "award", _("加分")
        DEDUCTION = "deduction", _("扣分")
        REDEMPTION = "redemption", _("兑换")
        PRIZE = "prize", _("奖励")
        REVERSAL = "reversal", _("冲正")

    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="entries", verbose_name=_("账户")
    )
    resident = models.ForeignKey(
        Resident,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("村民"),
    )
    kind = models.CharField(_("类型"), max_length=12, choices=Kind.choices)
    rule = models.ForeignKey(
        PointsRule,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="entries",
        verbose_name=_("积分事项"),
    )
    # Copied at write time: editing a rule later never changes the passbook.
    rule_name = models.CharField(_("事项"), max_length=60, blank=True, default="")
    points = models.IntegerField(_("分值"))
    balance_after = models.IntegerField(_("余额"))
    occurred_on = models.DateField(_("日期"), db_index=True)
    recorded_at = models.DateTimeField(_("记录时间"))
    # Empty for entries written by a scheduled job (the yearly base grant).
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("记录人"),
    )
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("审核人"),
    )
    claim = models.OneToOneField(
        Claim,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="entry",
        verbose_name=_("申报"),
    )
    reverses = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversed_by",
        verbose_name=_("冲正的记录"),
    )
    redemption = models.ForeignKey(
        Redemption,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="entries",
        verbose_name=_("兑换单"),
    )
    # Non-empty when the entry may exist only once per account: "rule:<id>:<date>" for rules
    # that do not allow a same-day repeat, "base:<year>" for the yearly grant.
    dedupe_key = models.CharField(max_length=40, blank=True, default="")
    note = models.CharField(_("备注"), max_length=300, blank=True, default="")

    class Meta:
        verbose_name = _("积分流水")
        verbose_name_plural = _("积分流水")
        ordering = ["account", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(points=0), name="points_entry_points_nonzero"),
            models.CheckConstraint(
                condition=Q(balance_after__gte=0), name="points_entry_balance_not_negative"
            ),
            models.CheckConstraint(
                condition=~Q(kind="reversal") | Q(reverses__isnull=False),
                name="points_entry_reversal_points_at_entry",
            ),
            models.CheckConstraint(
                condition=Q(kind="reversal") | Q(reverses__isnull=True),
                name="points_entry_only_reversals_reverse",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=["award", "deduction"]) | Q(rule__isnull=False),
                name="points_entry_award_has_rule",
            ),
            models.CheckConstraint(
                condition=~Q(kind="award") | Q(points__gt=0),
                name="points_entry_award_positive",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=["deduction", "redemption"]) | Q(points__lt=0),
                name="points_entry_debit_negative",
            ),
            models.CheckConstraint(
                condition=~Q(kind="redemption") | Q(redemption__isnull=False),
                name="points_entry_redemption_has_receipt",
            ),
            models.UniqueConstraint(
                fields=["account", "dedupe_key"],
                condition=~Q(dedupe_key=""),
                name="points_entry_once_per_key",
            ),
        ]
        indexes = [
            models.Index(fields=["account", "rule", "occurred_on"], name="points_entry_rule_day"),
            models.Index(fields=["kind", "occurred_on"], name="points_entry_kind_day"),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_on} {self.rule_name or self.get_kind_display()} {self.points:+d}"


class PrizeTier(models.Model):
    """Prizes by rank in the village's quarterly ranking (e.g. ranks 1–4 a mattress)."""

    village = models.ForeignKey(
        Village, on_delete=models.PROTECT, related_name="points_prize_tiers", verbose_name=_("村")
    )
    rank_from = models.PositiveSmallIntegerField(_("起始名次"))
    rank_to = models.PositiveSmallIntegerField(_("截止名次"))
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="+", verbose_name=_("奖品")
    )

    class Meta:
        verbose_name = _("奖励档次")
        verbose_name_plural = _("奖励档次")
        ordering = ["village", "rank_from"]
        constraints = [
            models.CheckConstraint(
                condition=Q(rank_from__gte=1) & Q(rank_to__gte=F("rank_from")),
                name="points_prize_tier_ranks_ordered",
            ),
            models.UniqueConstraint(
                fields=["village", "rank_from"], name="points_prize_tier_start_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"第{self.rank_from}–{self.rank_to}名：{self.product.name}"


class Honour(models.Model):
    TITLES = ("文明家庭", "美丽家园示范户", "最美庭院", "好婆婆", "好媳妇", "孝老爱亲户")

    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, related_name="honours", verbose_name=_("户")
    )
    title = models.CharField(_("称号"), max_length=30)
    year = models.PositiveSmallIntegerField(_("年度"))
    awarded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("授予人"),
    )
    awarded_at = models.DateTimeField(_("授予时间"))
    meeting = models.ForeignKey(
        "deliberation.Meeting",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="points_honours",
        verbose_name=_("决定会议"),
    )
    note = models.CharField(_("事迹"), max_length=300, blank=True, default="")

    class Meta:
        verbose_name = _("荣誉称号")
        verbose_name_plural = _("荣誉称号")
        ordering = ["-year", "title"]
        constraints = [
            models.UniqueConstraint(
                fields=["household", "title", "year"], name="points_honour_once_per_year"
            ),
            models.CheckConstraint(
                condition=Q(year__gte=2000) & Q(year__lte=2100), name="points_honour_year_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year}年度{self.title}"


# --- quarterly red/black lists (红黑榜) ----------------------------------------------------------


class ListPolicy(models.Model):
    """How a village draws its quarterly red and black lists (DESIGN §5.3).

    Red: households with positive net quarter points that are in the top N (ties at rank N all
    included) and/or have at least X points. Black: any black-list offence in the quarter and/or
    net quarter points at most Y. A black-listed household is never on the red list.
    """

    class Combine(models.TextChoices):
        AND = "and", _("同时满足")
        OR = "or", _("满足其一")

    village = models.OneToOneField(
        Village, on_delete=models.PROTECT, related_name="list_policy", verbose_name=_("村")
    )
    red_top_n = models.PositiveSmallIntegerField(_("红榜前N名"), null=True, blank=True, default=10)
    red_min_points = models.IntegerField(_("红榜最低季度净积分"), null=True, blank=True)
    red_combine = models.CharField(
        _("红榜条件组合"), max_length=3, choices=Combine.choices, default=Combine.OR
    )
    black_on_offence = models.BooleanField(_("有黑榜事项即上黑榜"), default=True)
    black_max_points = models.IntegerField(_("黑榜季度净积分上限"), null=True, blank=True)
    mask_black_names = models.BooleanField(_("黑榜姓名打码"), default=True)
    objection_days = models.PositiveSmallIntegerField(_("异议期(天)"), default=7)
    courtyard_category = models.ForeignKey(
        Category,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("庭院评比类别"),
        help_text=_("最美庭院/脏乱庭院榜按此类别的积分排名；为空则不评庭院榜"),
    )

    class Meta:
        verbose_name = _("红黑榜规则")
        verbose_name_plural = _("红黑榜规则")
        constraints = [
            models.CheckConstraint(
                condition=Q(red_top_n__isnull=True) | Q(red_top_n__gte=1),
                name="points_list_policy_top_n_positive",
            ),
            models.CheckConstraint(
                condition=Q(objection_days__gte=1), name="points_list_policy_objection_days"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.village.name}红黑榜规则"


class ListPublication(models.Model):
    """One revision of a village's list for a quarter and theme. Corrections are new revisions."""

    class Theme(models.TextChoices):
        OVERALL = "overall", _("积分红黑榜")
        COURTYARD = "courtyard", _("最美庭院/脏乱庭院")

    class Status(models.TextChoices):
        PUBLISHED = "published", _("公示中")
        SUPERSEDED = "superseded", _("已被新版本取代")

    village = models.ForeignKey(
        Village, on_delete=models.PROTECT, related_name="list_publications", verbose_name=_("村")
    )
    quarter = models.CharField(_("季度"), max_length=6, help_text=_("如 2026Q3"))
    theme = models.CharField(_("榜单"), max_length=10, choices=Theme.choices)
    revision = models.PositiveSmallIntegerField(_("版本"), default=1)
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices)
    published_at = models.DateTimeField(_("发布时间"))
    objection_until = models.DateField(_("异议截止"))
    mask_black_names = models.BooleanField(_("黑榜姓名打码"), default=True)
    reason = models.CharField(_("修订原因"), max_length=300, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("修订人"),
    )

    class Meta:
        verbose_name = _("红黑榜公示")
        verbose_name_plural = _("红黑榜公示")
        ordering = ["village", "-quarter", "theme", "-revision"]
        constraints = [
            models.UniqueConstraint(
                fields=["village", "quarter", "theme", "revision"],
                name="points_list_publication_revision_unique",
            ),
            models.UniqueConstraint(
                fields=["village", "quarter", "theme"],
                condition=Q(status="published"),
                name="points_list_one_published_revision",
            ),
            models.CheckConstraint(
                condition=Q(revision__gte=1), name="points_list_publication_revision_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.village.name}{self.quarter}{self.get_theme_display()}（第{self.revision}版）"


class ListEntry(models.Model):
    class Colour(models.TextChoices):
        RED = "red", _("红榜")
        BLACK = "black", _("黑榜")

    publication = models.ForeignKey(
        ListPublication, on_delete=models.PROTECT, related_name="entries", verbose_name=_("公示")
    )
    household = models.ForeignKey(
        Household, on_delete=models.PROTECT, related_name="list_entries", verbose_name=_("户")
    )
    colour = models.CharField(_("榜别"), max_length=5, choices=Colour.choices)
    rank = models.PositiveIntegerField(_("名次"), null=True, blank=True)
    points = models.IntegerField(_("季度净积分"))
    reason = models.CharField(_("上榜理由"), max_length=200)
    # The name as shown in public, frozen at publication (already masked on the black list).
    public_name = models.CharField(_("公示姓名"), max_length=50)
    prize = models.ForeignKey(
        Product,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("奖品"),
    )
    withdrawn = models.BooleanField(_("已撤下"), default=False)
    withdrawn_reason = models.CharField(_("撤下理由"), max_length=300, blank=True, default="")

    class Meta:
        verbose_name = _("上榜记录")
        verbose_name_plural = _("上榜记录")
        ordering = ["publication", "colour", "rank", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["publication", "household", "colour"], name="points_list_entry_unique"
            ),
            models.CheckConstraint(
                condition=Q(withdrawn=False, withdrawn_reason="")
                | (Q(withdrawn=True) & ~Q(withdrawn_reason="")),
                name="points_list_entry_withdrawn_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_colour_display()} {self.public_name}"


class Objection(models.Model):
    """异议: a villager's objection to an entry during the objection window, recorded by staff."""

    class Status(models.TextChoices):
        OPEN = "open", _("待处理")
        UPHELD = "upheld", _("异议成立")
        DISMISSED = "dismissed", _("异议不成立")

    entry = models.ForeignKey(
        ListEntry, on_delete=models.PROTECT, related_name="objections", verbose_name=_("上榜记录")
    )
    text = models.CharField(_("异议内容"), max_length=300)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("登记人"),
    )
    recorded_at = models.DateTimeField(_("登记时间"))
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.OPEN)
    decision = models.CharField(_("处理意见"), max_length=300, blank=True, default="")

    class Meta:
        verbose_name = _("异议")
        verbose_name_plural = _("异议")
        ordering = ["-recorded_at", "-id"]

    def __str__(self) -> str:
        return f"{self.entry} · {self.get_status_display()}"
