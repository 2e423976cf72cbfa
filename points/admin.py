"""Staff admin for points. Not a back door: every write goes through points.services."""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.utils.translation import gettext_lazy as _

from grids.models import Township
from grids.services import model_create, model_update

from . import services
from .models import (
    Account,
    Category,
    Claim,
    Honour,
    LedgerEntry,
    PointsRule,
    PrizeTier,
    Product,
    Redemption,
    Shop,
    StockMovement,
)


class ServiceAdmin(admin.ModelAdmin):
    """Writes through services; a refusal is shown as a message instead of an error page."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), level=messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def _changed(self, form) -> dict:
        return {name: form.cleaned_data[name] for name in form.changed_data}


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Category)
class CategoryAdmin(ServiceAdmin):
    list_display = ["name", "kind", "township"]
    list_filter = ["kind", "township"]
    actions = ["seed_defaults"]

    def save_model(self, request, obj, form, change):
        if change:
            model_update(actor=request.user, instance=obj, data=self._changed(form))
        else:
            model_create(actor=request.user, instance=obj)

    @admin.action(description=_("为所选类别的乡镇补齐默认类别"))
    def seed_defaults(self, request, queryset):
        for township_id in set(queryset.values_list("township_id", flat=True)):
            services.township_categories_ensure(
                actor=request.user, township=Township.objects.get(pk=township_id)
            )
        self.message_user(request, _("已补齐默认类别"))


@admin.register(PointsRule)
class PointsRuleAdmin(ServiceAdmin):
    list_display = ["code", "name", "points", "category", "village", "active_from", "active_to"]
    list_filter = ["township", "village", "category__kind", "needs_review", "black_list_offence"]
    search_fields = ["code", "name"]
    raw_id_fields = ["legal_basis"]
    readonly_fields = ["template"]
    actions = ["copy_to_villages"]

    def save_model(self, request, obj, form, change):
        if change:
            model_update(
                actor=request.user,
                instance=obj,
                data=self._changed(form),
                village_id=obj.village_id,
            )
            return
        data = {
            name: form.cleaned_data[name]
            for name in form.cleaned_data
            if name not in {"township", "village", "category", "template"}
        }
        created = services.rule_create(
            actor=request.user,
            village=form.cleaned_data.get("village"),
            township=form.cleaned_data.get("township"),
            category=form.cleaned_data["category"],
            **data,
        )
        obj.pk = created.pk

    @admin.action(description=_("把所选乡镇模板复制到本乡镇各村"))
    def copy_to_villages(self, request, queryset):
        count = 0
        try:
            for template in queryset.filter(village__isnull=True):
                count += len(services.rule_copy_to_villages(actor=request.user, template=template))
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), level=messages.ERROR)
            return
        self.message_user(request, _("已复制%(n)d条规则") % {"n": count})


@admin.register(Account)
class AccountAdmin(ReadOnlyAdmin):
    list_display = ["household", "balance", "updated_at"]
    search_fields = ["household__number"]


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ["occurred_on", "account", "kind", "rule_name", "points", "balance_after"]
    list_filter = ["kind"]
    search_fields = ["account__household__number", "rule_name"]
    list_select_related = ["account__household"]


@admin.register(Claim)
class ClaimAdmin(ReadOnlyAdmin):
    list_display = ["household", "rule", "occurred_on", "status", "submitted_by", "decided_by"]
    list_filter = ["status"]
    list_select_related = ["household", "rule", "submitted_by", "decided_by"]
    actions = ["approve"]

    @admin.action(description=_("通过所选申报（不需会议审议的事项）"))
    def approve(self, request, queryset):
        done = 0
        for claim in queryset.filter(status=Claim.Status.PENDING):
            try:
                services.claim_approve(actor=request.user, claim=claim)
                done += 1
            except ValidationError as exc:
                self.message_user(
                    request, f"{claim}：{' '.join(exc.messages)}", level=messages.ERROR
                )
        self.message_user(request, _("已通过%(n)d条") % {"n": done})


@admin.register(Shop)
class ShopAdmin(ServiceAdmin):
    list_display = ["name", "village"]

    def save_model(self, request, obj, form, change):
        if change:
            model_update(
                actor=request.user,
                instance=obj,
                data=self._changed(form),
                village_id=obj.village_id,
            )
        else:
            obj.pk = services.shop_create(actor=request.user, village=obj.village, name=obj.name).pk


@admin.register(Product)
class ProductAdmin(ServiceAdmin):
    list_display = ["name", "shop", "points_price", "stock", "active"]
    list_filter = ["shop", "active"]
    readonly_fields = ["stock"]

    def get_readonly_fields(self, request, obj=None):
        return ["stock", "shop"] if obj else ["stock"]

    def save_model(self, request, obj, form, change):
        if change:
            services.product_update(
                actor=request.user, product=obj, points_price=obj.points_price, active=obj.active
            )
        else:
            obj.pk = services.product_create(
                actor=request.user,
                shop=obj.shop,
                name=obj.name,
                points_price=obj.points_price,
                active=obj.active,
            ).pk


@admin.register(StockMovement)
class StockMovementAdmin(ServiceAdmin):
    """Add only: purchase (with cost), donation (with donor) or correction (with a note)."""

    list_display = ["at", "product", "kind", "quantity", "donor", "cost_yuan", "by"]
    list_filter = ["kind", "product__shop"]
    fields = ["product", "kind", "quantity", "cost_yuan", "donor", "note"]

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        kind = obj.kind
        if kind == StockMovement.Kind.PURCHASE:
            movement = services.stock_purchase(
                actor=request.user,
                product=obj.product,
                quantity=obj.quantity,
                cost_yuan=obj.cost_yuan,
                note=obj.note,
            )
        elif kind == StockMovement.Kind.DONATION:
            movement = services.stock_donation(
                actor=request.user,
                product=obj.product,
                quantity=obj.quantity,
                donor=obj.donor,
                note=obj.note,
            )
        elif kind == StockMovement.Kind.CORRECTION:
            movement = services.stock_correct(
                actor=request.user, product=obj.product, quantity=obj.quantity, note=obj.note
            )
        else:
            raise ValidationError(_("兑换出库和撤销退回只能在兑换柜台产生"))
        obj.pk = movement.pk


@admin.register(Redemption)
class RedemptionAdmin(ReadOnlyAdmin):
    list_display = ["pk", "account", "shop", "total_points", "status", "at", "by"]
    list_filter = ["status", "shop"]
    list_select_related = ["account__household", "shop", "by"]


@admin.register(PrizeTier)
class PrizeTierAdmin(ServiceAdmin):
    list_display = ["village", "rank_from", "rank_to", "product"]

    def save_model(self, request, obj, form, change):
        if change:
            model_update(
                actor=request.user,
                instance=obj,
                data=self._changed(form),
                village_id=obj.village_id,
            )
        else:
            model_create(actor=request.user, instance=obj, village_id=obj.village_id)


@admin.register(Honour)
class HonourAdmin(ServiceAdmin):
    list_display = ["household", "title", "year", "awarded_by", "meeting"]
    list_filter = ["year", "title"]
    fields = ["household", "title", "year", "meeting", "note"]
    raw_id_fields = ["household", "meeting"]

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        obj.pk = services.honour_award(
            actor=request.user,
            household=obj.household,
            title=obj.title,
            year=obj.year,
            meeting=obj.meeting,
            note=obj.note,
        ).pk


# --- 红黑榜 (issue 6): policies are edited here; publications are written only by the job -------

from .models import ListEntry, ListPolicy, ListPublication  # noqa: E402


@admin.register(ListPolicy)
class ListPolicyAdmin(ServiceAdmin):
    list_display = [
        "village",
        "red_top_n",
        "red_min_points",
        "black_max_points",
        "mask_black_names",
    ]

    def save_model(self, request, obj, form, change):
        if change:
            model_update(
                actor=request.user,
                instance=obj,
                data=self._changed(form),
                village_id=obj.village_id,
            )
        else:
            model_create(actor=request.user, instance=obj, village_id=obj.village_id)


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


@admin.register(ListPublication)
class ListPublicationAdmin(ReadOnlyAdmin):
    list_display = ["village", "quarter", "theme", "revision", "status", "objection_until"]
    list_filter = ["quarter", "theme", "status"]
    inlines = [ListEntryInline]
