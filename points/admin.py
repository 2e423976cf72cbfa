"""Points in the admin for township and village staff, scoped like grids' ScopedAdmin.

Village staff set up their own village: rules, the 积分超市 (shops, products, stock in by
purchase or donation), prize tiers, honours and the red/black list policy. Township staff keep
the township's categories and rule templates, copy templates to their villages, and read their
villages' rules and accounts. Nobody deletes anything, and every save calls a points service,
which checks the user's scope again and writes the audit record.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from deliberation.models import Article, Meeting, RuleVersion
from grids.access import scope_of
from grids.admin import ScopedAdmin
from grids.models import Role, Township

from . import services
from .models import (
    Account,
    Category,
    Claim,
    ClaimBatch,
    Honour,
    LedgerEntry,
    ListEntry,
    ListPolicy,
    ListPublication,
    PointsRule,
    PrizeTier,
    Product,
    Redemption,
    Shop,
    StockMovement,
)

STAFF = {Role.VILLAGE_STAFF, Role.TOWNSHIP_STAFF}
VILLAGE_STAFF = {Role.VILLAGE_STAFF}
TOWNSHIP_STAFF = {Role.TOWNSHIP_STAFF}
CITED_VERSION_STATUSES = [
    RuleVersion.Status.ADOPTED,
    RuleVersion.Status.FILED,
    RuleVersion.Status.IN_FORCE,
]


class PointsAdmin(ScopedAdmin):
    """Rows and choices limited to the user's villages; writes through ``points.services``."""

    editors = VILLAGE_STAFF
    viewers = STAFF

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        scope = scope_of(request.user)
        target = db_field.related_model
        if target is Category and not scope.is_superuser:
            kwargs["queryset"] = Category.objects.filter(township_id=scope.township_id)
        elif target is Shop:
            kwargs["queryset"] = Shop.objects.filter(scope.village_q("village")).select_related(
                "village"
            )
        elif target is Product:
            kwargs["queryset"] = Product.objects.filter(scope.village_q("shop__village"))
        elif target is Meeting:
            kwargs["queryset"] = Meeting.objects.filter(
                scope.village_q("village"), status=Meeting.Status.HELD
            ).order_by("-held_at")
        elif target is Article:
            kwargs["queryset"] = (
                Article.objects.filter(
                    scope.village_q("version__rule__village"),
                    version__status__in=CITED_VERSION_STATUSES,
                )
                .select_related("version__rule__village")
                .order_by("version__rule__village__code", "number")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ReadOnlyPointsAdmin(PointsAdmin):
    """Written only by the pages and jobs (ledger, claims, redemptions, publications): read-only
    for everyone, superusers included (the ledger's trigger would refuse the edit anyway)."""

    editors: set[str] = set()

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


# --- categories and rules -------------------------------------------------------------------------


@admin.register(Category)
class CategoryAdmin(PointsAdmin):
    village_path = None
    editors = TOWNSHIP_STAFF
    list_display = ["name", "kind", "township"]
    list_filter = ["kind"]
    actions = ["seed_defaults"]

    def get_queryset(self, request):
        qs = admin.ModelAdmin.get_queryset(self, request)
        scope = scope_of(request.user)
        if scope.is_superuser:
            return qs
        if scope.role in STAFF:
            return qs.filter(township_id=scope.township_id)
        return qs.none()

    def get_readonly_fields(self, request, obj=None):
        return ["township"] if obj else []

    def create(self, request, obj, form) -> None:
        obj.pk = services.category_create(
            actor=request.user, township=obj.township, name=obj.name, kind=obj.kind
        ).pk

    def update(self, request, instance, data: dict) -> None:
        services.category_update(actor=request.user, category=instance, **data)

    @admin.action(description=_("补齐本乡镇的默认积分类别"), permissions=["change"])
    def seed_defaults(self, request, queryset):
        townships = Township.objects.filter(pk__in=queryset.values("township_id"))
        for township in townships:
            services.township_categories_ensure(actor=request.user, township=township)
        self.message_user(request, _("已补齐默认类别"))


RULE_FIELDS = services.RULE_TERMS


@admin.register(PointsRule)
class PointsRuleAdmin(PointsAdmin):
    """Village staff: their village's rules. Township staff: the township's templates (and the
    action that copies them to the villages); their villages' rules are read-only to them."""

    editors = STAFF
    list_display = ["code", "name", "points", "category", "village", "active_from", "active_to"]
    list_filter = ["village", "category__kind", "needs_review", "black_list_offence"]
    search_fields = ["code", "name"]
    list_select_related = ["village", "category"]
    actions = ["copy_to_villages"]

    def get_queryset(self, request):
        qs = admin.ModelAdmin.get_queryset(self, request)
        scope = scope_of(request.user)
        if scope.is_superuser:
            return qs
        if scope.role not in STAFF:
            return qs.none()
        templates = Q(village__isnull=True, township_id=scope.township_id)
        return qs.filter(scope.village_q("village") | templates)

    def _owns(self, request, rule: PointsRule) -> bool:
        scope = scope_of(request.user)
        if scope.is_superuser:
            return True
        if rule.village_id is None:
            return scope.role == Role.TOWNSHIP_STAFF and rule.township_id == scope.township_id
        return scope.role == Role.VILLAGE_STAFF and rule.village_id == scope.village_id

    def has_change_permission(self, request, obj=None):
        if not super().has_change_permission(request, obj):
            return False
        return obj is None or self._owns(request, obj)

    def has_copy_permission(self, request) -> bool:
        return self._role_in(request, TOWNSHIP_STAFF)

    def get_fields(self, request, obj=None):
        scope = scope_of(request.user)
        if obj is not None:
            place = ["township"] if obj.village_id is None else ["village", "template"]
            basis = [] if obj.village_id is None else ["legal_basis"]
            return [*place, *RULE_FIELDS, *basis]
        if scope.is_superuser:
            return ["township", "village", *RULE_FIELDS, "legal_basis"]
        if scope.role == Role.TOWNSHIP_STAFF:
            return ["township", *RULE_FIELDS]
        return ["village", *RULE_FIELDS, "legal_basis"]

    def get_readonly_fields(self, request, obj=None):
        return ["township", "village", "template"] if obj else []

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        scope = scope_of(request.user)
        if obj is None and not scope.is_superuser:
            place = "township" if scope.role == Role.TOWNSHIP_STAFF else "village"
            if place in form.base_fields:
                form.base_fields[place].required = True
                form.base_fields[place].empty_label = None
        return form

    def create(self, request, obj, form) -> None:
        data = form.cleaned_data
        village = data.get("village")
        created = services.rule_create(
            actor=request.user,
            village=village,
            township=None if village else data.get("township"),
            category=data["category"],
            legal_basis=data.get("legal_basis"),
            **{name: data[name] for name in RULE_FIELDS if name != "category"},
        )
        obj.pk = created.pk

    def update(self, request, instance, data: dict) -> None:
        services.rule_update(actor=request.user, rule=instance, changes=data)

    @admin.action(description=_("把所选乡镇模板复制到本乡镇各村"), permissions=["copy"])
    def copy_to_villages(self, request, queryset):
        count = 0
        try:
            for template in queryset.filter(village__isnull=True).order_by("pk"):
                count += len(services.rule_copy_to_villages(actor=request.user, template=template))
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), level=messages.ERROR)
            return
        self.message_user(request, _("已复制%(n)d条规则到各村") % {"n": count})


# --- the ledger and claims (read-only here) ---------------------------------------------------------


@admin.register(Account)
class AccountAdmin(ReadOnlyPointsAdmin):
    village_path = "household__village"
    list_display = ["household", "balance", "updated_at"]
    search_fields = ["household__number"]
    list_select_related = ["household"]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyPointsAdmin):
    village_path = "account__household__village"
    list_display = ["occurred_on", "account", "kind", "rule_name", "points", "balance_after"]
    list_filter = ["kind"]
    search_fields = ["account__household__number", "rule_name"]
    list_select_related = ["account__household"]


@admin.register(Claim)
class ClaimAdmin(ReadOnlyPointsAdmin):
    village_path = "household__village"
    list_display = ["household", "rule", "occurred_on", "status", "submitted_by", "decided_by"]
    list_filter = ["status"]
    list_select_related = ["household", "rule", "submitted_by", "decided_by"]
    actions = ["approve"]

    def has_approve_permission(self, request) -> bool:
        return self._role_in(request, STAFF)

    @admin.action(description=_("通过所选申报（不需会议审议的事项）"), permissions=["approve"])
    def approve(self, request, queryset):
        done = 0
        for claim in queryset.filter(status=Claim.Status.PENDING).order_by("pk"):
            try:
                services.claim_approve(actor=request.user, claim=claim)
                done += 1
            except ValidationError as exc:
                self.message_user(
                    request, f"{claim}：{' '.join(exc.messages)}", level=messages.ERROR
                )
        self.message_user(request, _("已通过%(n)d条") % {"n": done})


@admin.register(ClaimBatch)
class ClaimBatchAdmin(ReadOnlyPointsAdmin):
    list_display = ["rule", "occurred_on", "size", "status", "submitted_by", "decided_by"]
    list_filter = ["status"]
    list_select_related = ["rule", "submitted_by", "decided_by"]


# --- the points supermarket -------------------------------------------------------------------------


@admin.register(Shop)
class ShopAdmin(PointsAdmin):
    list_display = ["name", "village"]
    list_select_related = ["village"]

    def get_readonly_fields(self, request, obj=None):
        return ["village"] if obj else []

    def create(self, request, obj, form) -> None:
        obj.pk = services.shop_create(actor=request.user, village=obj.village, name=obj.name).pk

    def update(self, request, instance, data: dict) -> None:
        if "name" in data:
            services.shop_rename(actor=request.user, shop=instance, name=data["name"])


@admin.register(Product)
class ProductAdmin(PointsAdmin):
    """Stock is read-only here: it changes by stock-in (出入库记录) and at the counter."""

    village_path = "shop__village"
    list_display = ["name", "shop", "points_price", "stock", "active"]
    list_filter = ["active"]
    search_fields = ["name"]
    list_select_related = ["shop__village"]

    def get_readonly_fields(self, request, obj=None):
        return ["stock", "shop"] if obj else ["stock"]

    def create(self, request, obj, form) -> None:
        obj.pk = services.product_create(
            actor=request.user,
            shop=obj.shop,
            name=obj.name,
            points_price=obj.points_price,
            active=obj.active,
        ).pk

    def update(self, request, instance, data: dict) -> None:
        services.product_update(actor=request.user, product=instance, **data)


STOCK_IN_KINDS = [
    StockMovement.Kind.PURCHASE,
    StockMovement.Kind.DONATION,
    StockMovement.Kind.CORRECTION,
]


class StockInForm(forms.ModelForm):
    """What each kind needs, said in Chinese before the database's CHECK would refuse it."""

    class Meta:
        model = StockMovement
        fields = ["product", "kind", "quantity", "cost_yuan", "donor", "note"]

    def clean(self):
        data = super().clean()
        kind, quantity = data.get("kind"), data.get("quantity")
        stock_in = kind in {StockMovement.Kind.PURCHASE, StockMovement.Kind.DONATION}
        if stock_in and quantity is not None and quantity <= 0:
            self.add_error("quantity", _("入库数量必须大于0"))
        if kind == StockMovement.Kind.PURCHASE and data.get("cost_yuan") is None:
            self.add_error("cost_yuan", _("请填写采购金额（元）"))
        if kind == StockMovement.Kind.DONATION and not (data.get("donor") or "").strip():
            self.add_error("donor", _("请填写捐赠人"))
        if kind == StockMovement.Kind.CORRECTION and not (data.get("note") or "").strip():
            self.add_error("note", _("盘点更正请填写原因"))
        return data


@admin.register(StockMovement)
class StockMovementAdmin(PointsAdmin):
    """Add only: purchase (with cost), donation (with donor) or correction (with a note)."""

    form = StockInForm
    village_path = "product__shop__village"
    list_display = ["at", "product", "kind", "quantity", "donor", "cost_yuan", "by"]
    list_filter = ["kind"]
    list_select_related = ["product", "by"]
    fields = ["product", "kind", "quantity", "cost_yuan", "donor", "note"]

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "kind":
            kwargs["choices"] = [
                (kind.value, kind.label) for kind in StockMovement.Kind if kind in STOCK_IN_KINDS
            ]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def create(self, request, obj, form) -> None:
        if obj.kind == StockMovement.Kind.PURCHASE:
            movement = services.stock_purchase(
                actor=request.user,
                product=obj.product,
                quantity=obj.quantity,
                cost_yuan=obj.cost_yuan,
                note=obj.note,
            )
        elif obj.kind == StockMovement.Kind.DONATION:
            movement = services.stock_donation(
                actor=request.user,
                product=obj.product,
                quantity=obj.quantity,
                donor=obj.donor,
                note=obj.note,
            )
        elif obj.kind == StockMovement.Kind.CORRECTION:
            movement = services.stock_correct(
                actor=request.user, product=obj.product, quantity=obj.quantity, note=obj.note
            )
        else:
            raise ValidationError(_("兑换出库和撤销退回只能在兑换柜台产生"))
        obj.pk = movement.pk


@admin.register(Redemption)
class RedemptionAdmin(ReadOnlyPointsAdmin):
    village_path = "shop__village"
    list_display = ["pk", "account", "shop", "total_points", "status", "at", "by"]
    list_filter = ["status"]
    list_select_related = ["account__household", "shop", "by"]


@admin.register(PrizeTier)
class PrizeTierAdmin(PointsAdmin):
    list_display = ["village", "rank_from", "rank_to", "product"]
    list_select_related = ["village", "product"]

    def get_readonly_fields(self, request, obj=None):
        return ["village"] if obj else []

    def create(self, request, obj, form) -> None:
        obj.pk = services.prize_tier_create(
            actor=request.user,
            village=obj.village,
            rank_from=obj.rank_from,
            rank_to=obj.rank_to,
            product=obj.product,
        ).pk

    def update(self, request, instance, data: dict) -> None:
        services.prize_tier_update(actor=request.user, tier=instance, changes=data)


@admin.register(Honour)
class HonourAdmin(PointsAdmin):
    """Add only, always with the held meeting that decided (the same rule as the honours page)."""

    village_path = "household__village"
    list_display = ["household", "title", "year", "awarded_by", "meeting"]
    list_filter = ["year", "title"]
    list_select_related = ["household", "awarded_by", "meeting"]
    fields = ["household", "title", "year", "meeting", "note"]

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change, **kwargs)
        if "meeting" in form.base_fields:
            form.base_fields["meeting"].required = True
        return form

    def create(self, request, obj, form) -> None:
        obj.pk = services.honour_award(
            actor=request.user,
            household=obj.household,
            title=obj.title,
            year=obj.year,
            meeting=obj.meeting,
            note=obj.note,
        ).pk


# --- 红黑榜: policies are edited here; publications are written only by the job -----------------


@admin.register(ListPolicy)
class ListPolicyAdmin(PointsAdmin):
    """Saved through grids' model_create/model_update (validation + audit), like ScopedAdmin."""

    list_display = [
        "village",
        "red_top_n",
        "red_min_points",
        "black_max_points",
        "mask_black_names",
    ]
    list_select_related = ["village"]

    def get_readonly_fields(self, request, obj=None):
        return ["village"] if obj else []


class ListEntryInline(admin.TabularInline):
    model = ListEntry
    extra = 0
    can_delete = False
    fields = [
        "colour",
        "rank",
        "public_name",
        "points",
        "reason",
        "prize",
        "withdrawn",
        "withdrawn_reason",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(ListPublication)
class ListPublicationAdmin(ReadOnlyPointsAdmin):
    list_display = ["village", "quarter", "theme", "revision", "status", "objection_until"]
    list_filter = ["quarter", "theme", "status"]
    list_select_related = ["village"]
    inlines = [ListEntryInline]
