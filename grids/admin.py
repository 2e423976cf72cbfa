"""Django admin for township and village staff, in Chinese, scoped, every write through services."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.utils.translation import gettext_lazy as _

from . import services
from .access import scope_of
from .models import (
    AuditEntry,
    ContactAssignment,
    Grid,
    Household,
    Representative,
    Resident,
    Role,
    Scope,
    Section,
    Township,
    User,
    Village,
)

admin.site.site_header = _("村级网格治理 · 管理后台")
admin.site.site_title = _("网格治理管理后台")
admin.site.index_title = _("辖区、人员与业务数据")


class ScopedAdmin(admin.ModelAdmin):
    """Base admin: rows limited to the user's scope, no deletes, saves through services.

    ``village_path`` is the lookup from the model to its Village ("" for Village itself,
    None for models above villages). ``editors`` are the roles that may add and change rows.
    """

    village_path: str | None = "village"
    editors: set[str] = {Role.VILLAGE_STAFF, Role.TOWNSHIP_STAFF}
    viewers: set[str] = {Role.VILLAGE_STAFF, Role.TOWNSHIP_STAFF}

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        scope = scope_of(request.user)
        if self.village_path is None:
            if scope.is_superuser:
                return qs
            if scope.role in {Role.TOWNSHIP_STAFF, Role.DEPARTMENT_HANDLER}:
                return qs.filter(pk=scope.township_id) if self.model is Township else qs.none()
            return qs.none()
        return qs.filter(
            scope.village_q(self.village_path) if self.village_path else scope.village_q("")
        )

    def _role_in(self, request, roles: set[str]) -> bool:
        scope = scope_of(request.user)
        return (
            request.user.is_active
            and request.user.is_staff
            and (scope.is_superuser or scope.role in roles)
        )

    def has_module_permission(self, request):
        return self._role_in(request, self.viewers)

    def has_view_permission(self, request, obj=None):
        return self._role_in(request, self.viewers)

    def has_add_permission(self, request):
        return self._role_in(request, self.editors)

    def has_change_permission(self, request, obj=None):
        return self._role_in(request, self.editors)

    def has_delete_permission(self, request, obj=None):
        # Nothing is deleted: people move out, representatives end their term, rows stay.
        return False

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        scope = scope_of(request.user)
        target = db_field.related_model
        if target is Village:
            kwargs["queryset"] = scope.villages()
        elif target is Grid:
            kwargs["queryset"] = scope.grids()
        elif target is Section:
            kwargs["queryset"] = Section.objects.filter(scope.village_q("village"))
        elif target is Household:
            kwargs["queryset"] = scope.households()
        elif target is Resident:
            kwargs["queryset"] = Resident.objects.filter(scope.household_q("household"))
        elif target is Representative:
            kwargs["queryset"] = Representative.objects.filter(
                scope.grid_q("grid"), ended_on__isnull=True
            )
        elif target is Township and not scope.is_superuser:
            kwargs["queryset"] = Township.objects.filter(pk=scope.township_id)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def village_id_of(self, obj) -> int | None:
        if self.village_path is None:
            return None
        if self.village_path == "":
            return obj.pk
        current = obj
        for part in self.village_path.split("__"):
            current = getattr(current, part, None)
            if current is None:
                return None
        return current.pk

    def save_model(self, request, obj, form, change):
        try:
            if change:
                original = type(obj).objects.get(pk=obj.pk)
                data = {
                    name: form.cleaned_data[name]
                    for name in form.changed_data
                    if name in form.cleaned_data
                }
                self.update(request, original, data)
                obj.refresh_from_db()
            else:
                self.create(request, obj, form)
        except ValidationError as exc:
            # The form was valid but a business rule in the service refused: nothing was written,
            # say why and send the user back to the form instead of reporting success.
            self.message_user(request, "；".join(exc.messages), level=messages.ERROR)
            request.service_refused = True

    def save_related(self, request, form, formsets, change):
        if not getattr(request, "service_refused", False):
            super().save_related(request, form, formsets, change)

    def log_addition(self, request, obj, message):
        if not getattr(request, "service_refused", False):
            return super().log_addition(request, obj, message)
        return None

    def log_change(self, request, obj, message):
        if not getattr(request, "service_refused", False):
            return super().log_change(request, obj, message)
        return None

    def response_add(self, request, obj, post_url_continue=None):
        if getattr(request, "service_refused", False):
            return HttpResponseRedirect(request.path)
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        if getattr(request, "service_refused", False):
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)

    def update(self, request, instance, data: dict) -> None:
        services.model_update(
            actor=request.user,
            instance=instance,
            data=data,
            village_id=self.village_id_of(instance),
        )

    def create(self, request, obj, form) -> None:
        services.model_create(actor=request.user, instance=obj, village_id=self.village_id_of(obj))


@admin.register(Township)
class TownshipAdmin(ScopedAdmin):
    village_path = None
    editors = set()
    viewers = {Role.TOWNSHIP_STAFF}
    list_display = (
        "code",
        "name",
        "grid_deadline_days",
        "village_deadline_days",
        "township_deadline_days",
    )
    search_fields = ("code", "name")

    def has_change_permission(self, request, obj=None):
        return self._role_in(request, {Role.TOWNSHIP_STAFF})


@admin.register(Village)
class VillageAdmin(ScopedAdmin):
    village_path = ""
    editors = {Role.TOWNSHIP_STAFF}
    list_display = (
        "code",
        "name",
        "township",
        "kind",
        "min_households_per_rep",
        "max_households_per_rep",
    )
    list_filter = ("township", "kind")
    search_fields = ("code", "name")

    def create(self, request, obj, form) -> None:
        created = services.village_create(
            actor=request.user, township=obj.township, code=obj.code, name=obj.name, kind=obj.kind
        )
        obj.pk = created.pk


@admin.register(Section)
class SectionAdmin(ScopedAdmin):
    list_display = ("name", "village", "leader")
    list_filter = ("village",)
    search_fields = ("name",)


@admin.register(Grid)
class GridAdmin(ScopedAdmin):
    list_display = ("code", "name", "village", "section", "leader")
    list_filter = ("village",)
    search_fields = ("code", "name")


class ResidentInline(admin.TabularInline):
    model = Resident
    fields = ("name", "relation", "gender", "birth_date", "masked_id", "masked_tel", "status")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    @admin.display(description=_("身份证号"))
    def masked_id(self, obj):
        return obj.masked_id_number

    @admin.display(description=_("手机号"))
    def masked_tel(self, obj):
        return obj.masked_phone


@admin.register(Household)
class HouseholdAdmin(ScopedAdmin):
    list_display = ("number", "head", "village", "grid", "representative", "priority")
    list_filter = ("village", "grid", "priority")
    search_fields = ("number", "head__name", "residents__name")
    list_select_related = ("head", "village", "grid", "representative__resident")
    fields = ("grid", "number", "address", "tags", "head", "representative")
    inlines = [ResidentInline]

    def get_search_results(self, request, queryset, search_term):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if len(term) == 4 and term[:3].isdigit():
            queryset |= self.get_queryset(request).filter(
                residents__id_number__endswith=term.upper()
            )
            may_have_duplicates = True
        return queryset, may_have_duplicates

    def update(self, request, instance, data):
        services.household_update(actor=request.user, household=instance, **data)

    def create(self, request, obj, form):
        created = services.household_create(
            actor=request.user, grid=obj.grid, number=obj.number, address=obj.address, tags=obj.tags
        )
        obj.pk = created.pk


@admin.register(Resident)
class ResidentAdmin(ScopedAdmin):
    village_path = "household__village"
    list_display = ("name", "household", "relation", "gender", "masked_id", "masked_tel", "status")
    list_filter = ("status", "gender", "household__village")
    search_fields = ("name", "household__number")
    list_select_related = ("household",)

    def get_fields(self, request, obj=None):
        base = ["household", "name", "relation", "gender", "birth_date", "status"]
        if obj is None or scope_of(request.user).can_see_pii(obj.household.village_id):
            return [*base, "id_number", "phone"]
        return [*base, "masked_id", "masked_tel"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not scope_of(request.user).can_see_pii(obj.household.village_id):
            return ("masked_id", "masked_tel")
        return ()

    def get_search_results(self, request, queryset, search_term):
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if len(term) == 4 and term[:3].isdigit():
            queryset |= self.get_queryset(request).filter(id_number__endswith=term.upper())
        return queryset, may_have_duplicates

    @admin.display(description=_("身份证号"))
    def masked_id(self, obj):
        return obj.masked_id_number

    @admin.display(description=_("手机号"))
    def masked_tel(self, obj):
        return obj.masked_phone

    def update(self, request, instance, data):
        services.resident_update(actor=request.user, resident=instance, **data)

    def create(self, request, obj, form):
        data = form.cleaned_data
        created = services.resident_create(
            actor=request.user,
            household=data["household"],
            name=data["name"],
            relation=data.get("relation", ""),
            gender=data.get("gender", ""),
            birth_date=data.get("birth_date"),
            id_number=data.get("id_number", ""),
            phone=data.get("phone", ""),
            status=data.get("status") or Resident.Status.PRESENT,
        )
        obj.pk = created.pk


@admin.register(Representative)
class RepresentativeAdmin(ScopedAdmin):
    village_path = "grid__village"
    list_display = ("card_number", "resident", "grid", "kind", "appointed_on", "ended_on")
    list_filter = ("kind", "grid__village")
    search_fields = ("card_number", "resident__name")
    list_select_related = ("resident", "grid")
    fields = ("resident", "grid", "kind", "card_number", "appointed_on", "ended_on")

    def get_readonly_fields(self, request, obj=None):
        return ("resident", "grid", "appointed_on") if obj else ()

    def update(self, request, instance, data):
        ended_on = data.pop("ended_on", None)
        if data:
            services.model_update(
                actor=request.user,
                instance=instance,
                data=data,
                village_id=instance.grid.village_id,
            )
        if ended_on:
            services.representative_end(
                actor=request.user, representative=instance, ended_on=ended_on
            )

    def create(self, request, obj, form):
        created = services.representative_appoint(
            actor=request.user,
            resident=obj.resident,
            grid=obj.grid,
            card_number=obj.card_number,
            appointed_on=obj.appointed_on,
            kind=obj.kind,
        )
        obj.pk = created.pk


@admin.register(ContactAssignment)
class ContactAssignmentAdmin(ScopedAdmin):
    list_display = ("cadre", "kind", "village", "section", "grid", "started_on", "ended_on")
    list_filter = ("kind", "village")

    def create(self, request, obj, form):
        created = services.contact_assign(
            actor=request.user,
            cadre=obj.cadre,
            village=obj.village,
            started_on=obj.started_on,
            section=obj.section,
            grid=obj.grid,
        )
        obj.pk = created.pk


@admin.register(AuditEntry)
class AuditEntryAdmin(ScopedAdmin):
    list_display = ("at", "actor", "action", "object_type", "object_repr", "village")
    list_filter = ("action", "object_type")
    search_fields = ("object_repr", "object_id")
    readonly_fields = (
        "at",
        "actor",
        "action",
        "object_type",
        "object_id",
        "object_repr",
        "village",
        "before",
        "after",
    )
    editors = set()

    def get_queryset(self, request):
        scope = scope_of(request.user)
        qs = AuditEntry.objects.select_related("actor", "village")
        if scope.is_superuser:
            return qs
        return qs.filter(scope.village_q("village"))


class ScopeInline(admin.StackedInline):
    model = Scope
    can_delete = False
    extra = 0


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    """Accounts and their scopes: superusers only (township staff ask them)."""

    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("联系方式"), {"fields": ("phone", "display_name")}),
    )
    list_display = ("username", "display_name", "phone", "is_staff", "is_active")
    search_fields = ("username", "display_name", "phone")
    inlines = [ScopeInline]

    def has_module_permission(self, request):
        return request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_add_permission(self, request):
        return request.user.is_superuser

    def save_model(self, request, obj, form, change):
        before = services.snapshot(type(obj).objects.get(pk=obj.pk)) if change else {}
        super().save_model(request, obj, form, change)
        services.audit_record(
            actor=request.user,
            action="update" if change else "create",
            instance=obj,
            before=before,
            after=services.snapshot(obj),
        )
