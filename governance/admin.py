"""Township admin for departments, categories and the 三个清单; requests are read-only here.

Built on grids' ScopedAdmin: rows limited to the user's township, nothing deleted, and every
save goes through a service, so the admin leaves the same audit trail as the pages.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grids.access import scope_of
from grids.admin import ScopedAdmin
from grids.models import Role
from grids.services import model_update

from . import services
from .models import (
    CatalogueChange,
    CatalogueItem,
    Department,
    DepartmentMember,
    Request,
    RequestCategory,
    RequestEvent,
)


class TownshipScopedAdmin(ScopedAdmin):
    """Township staff manage their own township's settings; village staff do not see them."""

    village_path = None
    township_path = "township"
    editors = {Role.TOWNSHIP_STAFF}
    viewers = {Role.TOWNSHIP_STAFF}

    def get_queryset(self, request):
        qs = admin.ModelAdmin.get_queryset(self, request)
        scope = scope_of(request.user)
        if scope.is_superuser:
            return qs
        if scope.role == Role.TOWNSHIP_STAFF:
            return qs.filter(**{f"{self.township_path}_id": scope.township_id})
        return qs.none()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        scope = scope_of(request.user)
        if db_field.related_model is Department and not scope.is_superuser:
            kwargs["queryset"] = Department.objects.filter(township_id=scope.township_id)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def update(self, request, instance, data: dict) -> None:
        model_update(actor=request.user, instance=instance, data=data)


class DepartmentMemberInline(admin.TabularInline):
    model = DepartmentMember
    extra = 0
    can_delete = False
    readonly_fields = ["user"]

    def has_add_permission(self, request, obj=None) -> bool:
        # Handlers are added under 部门经办人 so that their scope is set with them.
        return False


@admin.register(Department)
class DepartmentAdmin(TownshipScopedAdmin):
    list_display = ["name", "township", "ack_hours", "handle_limit", "active"]
    list_filter = ["active"]
    list_select_related = ["township"]
    search_fields = ["name"]
    inlines = [DepartmentMemberInline]

    @admin.display(description=_("办理时限(天)"))
    def handle_limit(self, obj) -> str:
        if obj.handle_days is None:
            return _("按乡镇：%(n)s") % {"n": obj.township.township_deadline_days}
        return str(obj.handle_days)

    def create(self, request, obj, form) -> None:
        created = services.department_create(
            actor=request.user,
            township=obj.township,
            name=obj.name,
            ack_hours=obj.ack_hours,
            handle_days=obj.handle_days,
        )
        obj.pk = created.pk


@admin.register(DepartmentMember)
class DepartmentMemberAdmin(TownshipScopedAdmin):
    township_path = "department__township"
    list_display = ["department", "user"]
    list_filter = ["department"]
    autocomplete_fields = ["user"]

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None and super().has_change_permission(request, obj)

    def create(self, request, obj, form) -> None:
        member = services.department_member_add(
            actor=request.user, department=obj.department, user=obj.user
        )
        obj.pk = member.pk


@admin.register(RequestCategory)
class RequestCategoryAdmin(TownshipScopedAdmin):
    list_display = ["name", "township", "active"]
    list_filter = ["active"]

    def create(self, request, obj, form) -> None:
        obj.pk = services.request_category_create(
            actor=request.user, township=obj.township, name=obj.name
        ).pk


class CatalogueChangeInline(admin.TabularInline):
    model = CatalogueChange
    extra = 0
    can_delete = False
    readonly_fields = ["action", "by", "at", "reason", "before", "after"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class CatalogueItemAdminForm(forms.ModelForm):
    """The item's fields plus the reason that goes into its history (required for a change)."""

    reason = forms.CharField(
        label=_("理由"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("写入清单变动记录：为什么列入或调整（调整时必填）"),
    )

    class Meta:
        model = CatalogueItem
        fields = ["township", "list_kind", "code", "title", "legal_basis", "added_on"]

    def clean(self):
        data = super().clean()
        changed = set(self.changed_data) & CATALOGUE_EDITABLE
        if self.instance.pk and changed and not (data.get("reason") or "").strip():
            self.add_error("reason", _("请填写调整理由"))
        return data


class CatalogueExitForm(forms.Form):
    reason = forms.CharField(
        label=_("退出理由"),
        max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": _("请填写退出理由")},
    )
    exited_on = forms.DateField(
        label=_("退出日期"),
        initial=timezone.localdate,
        widget=forms.DateInput(attrs={"type": "date"}),
        error_messages={"required": _("请填写退出日期"), "invalid": _("日期格式应为 2026-11-01")},
    )


CATALOGUE_EDITABLE = {"list_kind", "title", "legal_basis"}


@admin.register(CatalogueItem)
class CatalogueItemAdmin(TownshipScopedAdmin):
    form = CatalogueItemAdminForm
    list_display = ["code", "title", "list_kind", "township", "added_on", "exited_on"]
    list_filter = ["list_kind"]
    search_fields = ["code", "title"]
    inlines = [CatalogueChangeInline]
    actions = ["exit_items"]

    def get_readonly_fields(self, request, obj=None):
        return ["township", "code", "added_on", "exited_on"] if obj else ["exited_on"]

    def create(self, request, obj, form) -> None:
        obj.pk = services.catalogue_item_add(
            actor=request.user,
            township=obj.township,
            list_kind=obj.list_kind,
            code=obj.code,
            title=obj.title,
            legal_basis=obj.legal_basis,
            added_on=obj.added_on,
            reason=form.cleaned_data.get("reason", ""),
        ).pk

    def update(self, request, instance, data: dict) -> None:
        editable = {k: v for k, v in data.items() if k in CATALOGUE_EDITABLE}
        if editable:
            services.catalogue_item_change(
                actor=request.user, item=instance, reason=data.get("reason", ""), **editable
            )

    @admin.action(description=_("退出清单（填写理由）"))
    def exit_items(self, request, queryset):
        """Asks for the reason and the date first; the history keeps both for every item."""
        form = CatalogueExitForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            done = 0
            for item in queryset.filter(exited_on__isnull=True).order_by("pk"):
                try:
                    services.catalogue_item_exit(
                        actor=request.user,
                        item=item,
                        reason=form.cleaned_data["reason"],
                        exited_on=form.cleaned_data["exited_on"],
                    )
                except ValidationError as exc:
                    self.message_user(
                        request, f"{item.code}：{'；'.join(exc.messages)}", level=messages.ERROR
                    )
                else:
                    done += 1
            self.message_user(request, _("已退出 %(n)s 项") % {"n": done})
            return None
        return TemplateResponse(
            request,
            "governance/admin/catalogue_exit.html",
            {
                **self.admin_site.each_context(request),
                "title": _("退出清单"),
                "opts": self.model._meta,
                "items": queryset.order_by("list_kind", "code"),
                "form": form,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            },
        )


class RequestEventInline(admin.TabularInline):
    model = RequestEvent
    extra = 0
    can_delete = False
    readonly_fields = ["at", "actor", "action", "from_status", "to_status", "note"]

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Request)
class RequestAdmin(TownshipScopedAdmin):
    """Read-only: requests change only through the closed-loop pages."""

    township_path = "village__township"
    list_display = ["pk", "title", "village", "kind", "level", "status", "deadline"]
    list_filter = ["status", "level", "kind"]
    search_fields = ["title"]
    inlines = [RequestEventInline]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
